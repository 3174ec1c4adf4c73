//! A table model as an ONNX graph, so that ONNX Runtime, ROOT's TMVA SOFIE or any other runtime scores
//! rows as the page does: the raw feature columns in (in the order the model file names them), the
//! anomaly score out. The graph holds the preparation (the log where a feature takes one, the
//! standardisation, the missing-value policy), the autoencoder, and the score: ½ Σ (x − x̂)², plus the
//! KL term when the model adds it. Opset 13 and plain operators only (Gemm, Relu, Add, Sub, Mul, Div,
//! Log, Exp, Max, Greater, IsNaN, IsInf, Or, And, Not, Where, ReduceSum, ReduceMax, Cast, Identity).
//!
//! [`export_digits`] does the same for the digit view's autoencoder (pixels in, the binary cross-entropy
//! score out).
//!
//! The protobuf is written here by hand, from onnx.proto's field numbers: the file needs a handful of
//! message kinds, which take less code to write than a protobuf dependency would add to the page.

use super::model_file::ModelFile;
use super::prepare::MissingPolicy;
use crate::models::{DenseWeights, VaeWeights};

/// ONNX's tensor element types.
const FLOAT: u64 = 1;
const INT64: u64 = 7;
const BOOL: u64 = 9;
/// The IR version that goes with opset 13.
const IR_VERSION: u64 = 7;
const OPSET: u64 = 13;

/// The model's feature columns in, its score out: the names of the graph's input and output.
pub const INPUT: &str = "features";
pub const OUTPUT: &str = "anomaly_score";
/// The digit model's input: 784 pixel intensities a row.
pub const DIGIT_INPUT: &str = "pixels";

/// Protobuf's wire format, as far as ONNX files need it.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn key(&mut self, field: u64, wire: u64) {
        self.varint(field << 3 | wire);
    }

    fn int(&mut self, field: u64, value: u64) -> &mut Self {
        self.key(field, 0);
        self.varint(value);
        self
    }

    fn bytes(&mut self, field: u64, value: &[u8]) -> &mut Self {
        self.key(field, 2);
        self.varint(value.len() as u64);
        self.0.extend_from_slice(value);
        self
    }

    fn text(&mut self, field: u64, value: &str) -> &mut Self {
        self.bytes(field, value.as_bytes())
    }

    fn message(&mut self, field: u64, value: Message) -> &mut Self {
        self.bytes(field, &value.0)
    }
}

/// A constant tensor (TensorProto): dims, type, name, raw little-endian data.
fn tensor(name: &str, dims: &[usize], data_type: u64, raw: Vec<u8>) -> Message {
    let mut t = Message::default();
    for &d in dims {
        t.int(1, d as u64);
    }
    t.int(2, data_type).text(8, name).bytes(9, &raw);
    t
}

fn floats(name: &str, dims: &[usize], values: &[f32]) -> Message {
    tensor(name, dims, FLOAT, values.iter().flat_map(|v| v.to_le_bytes()).collect())
}

/// A graph being written: its nodes and constants.
#[derive(Default)]
struct Graph {
    nodes: Vec<Message>,
    constants: Vec<Message>,
    count: usize,
}

impl Graph {
    /// Adds a node and returns the name of its output.
    fn node(&mut self, op: &str, inputs: &[&str], attributes: Vec<Message>) -> String {
        let output = format!("{}_{}", op.to_lowercase(), self.count + 1);
        self.node_as(&output, op, inputs, attributes)
    }

    /// The same with the output named `output`.
    fn node_as(&mut self, output: &str, op: &str, inputs: &[&str], attributes: Vec<Message>) -> String {
        self.count += 1;
        let output = output.to_string();
        let mut n = Message::default();
        for input in inputs {
            n.text(1, input);
        }
        n.text(2, &output).text(3, &format!("node_{}", self.count)).text(4, op);
        for a in attributes {
            n.message(5, a);
        }
        self.nodes.push(n);
        output
    }

    fn constant(&mut self, name: &str, dims: &[usize], values: &[f32]) -> String {
        self.constants.push(floats(name, dims, values));
        name.to_string()
    }

    /// x · Wᵀ + b, with the layer's weight stored outputs × inputs as in the model file.
    fn dense(&mut self, name: &str, x: &str, layer: &DenseWeights) -> String {
        let w = self.constant(&format!("{name}.weight"), &[layer.outputs, layer.inputs], &layer.weight);
        let b = self.constant(&format!("{name}.bias"), &[layer.outputs], &layer.bias);
        self.node("Gemm", &[x, &w, &b], vec![int_attribute("transB", 1)])
    }

    /// Σ over the features (axis 1) of each row.
    fn row_sum(&mut self, x: &str, axes: &str) -> String {
        self.node("ReduceSum", &[x, axes], vec![int_attribute("keepdims", 0)])
    }

    /// `score` plus the KL term −½ Σ (1 + log σ² − μ² − σ²), log σ² from the encoder's hidden layer `h`.
    fn kl_added(&mut self, score: &str, h: &str, mu: &str, log_variance_layer: &DenseWeights, axes: &str) -> String {
        let minus_half = self.constant("minus_half", &[], &[-0.5]);
        let one = self.constant("one", &[], &[1.0]);
        let log_variance = self.dense("encoder_log_variance", h, log_variance_layer);
        let mu_squared = self.node("Mul", &[mu, mu], vec![]);
        let variance = self.node("Exp", &[&log_variance], vec![]);
        let a = self.node("Add", &[&log_variance, &one], vec![]);
        let b = self.node("Sub", &[&a, &mu_squared], vec![]);
        let c = self.node("Sub", &[&b, &variance], vec![]);
        let kl_sum = self.row_sum(&c, axes);
        let kl = self.node("Mul", &[&kl_sum, &minus_half], vec![]);
        self.node("Add", &[score, &kl], vec![])
    }

    /// The whole ONNX file: this graph, named `name`, taking `input` (rows × `width`) and giving
    /// [`OUTPUT`], with `metadata` as the model's metadata properties.
    fn into_file(self, name: &str, input: &str, width: usize, metadata: &[(&str, &str)]) -> Vec<u8> {
        let mut graph = Message::default();
        for n in self.nodes {
            graph.message(1, n);
        }
        graph.text(2, name);
        for c in self.constants {
            graph.message(5, c);
        }
        graph.message(11, value_info(input, Some(width))).message(12, value_info(OUTPUT, None));
        let mut opset = Message::default();
        opset.text(1, "").int(2, OPSET);
        let mut file = Message::default();
        file.int(1, IR_VERSION).text(2, "Anomaly Playground").text(3, env!("CARGO_PKG_VERSION")).message(7, graph).message(8, opset);
        for (key, value) in metadata {
            let mut entry = Message::default();
            entry.text(1, key).text(2, value);
            file.message(14, entry);
        }
        file.0
    }
}

fn int_attribute(name: &str, value: u64) -> Message {
    let mut a = Message::default();
    a.text(1, name).int(3, value).int(20, 2);
    a
}

/// A graph input or output: a float tensor of rows (any number) × `width`, or of rows alone.
fn value_info(name: &str, width: Option<usize>) -> Message {
    let mut shape = Message::default();
    let mut rows = Message::default();
    rows.text(2, "rows");
    shape.message(1, rows);
    if let Some(width) = width {
        let mut dim = Message::default();
        dim.int(1, width as u64);
        shape.message(1, dim);
    }
    let mut tensor_type = Message::default();
    tensor_type.int(1, FLOAT).message(2, shape);
    let mut type_proto = Message::default();
    type_proto.message(1, tensor_type);
    let mut info = Message::default();
    info.text(1, name).message(2, type_proto);
    info
}

/// The ONNX file of a table model.
pub fn export(model: &ModelFile) -> Vec<u8> {
    let features = &model.preprocessing.features;
    let width = features.len();
    let w = &model.weights;
    let mut g = Graph::default();
    let axes = {
        g.constants.push(tensor("feature_axis", &[1], INT64, 1i64.to_le_bytes().to_vec()));
        "feature_axis"
    };
    let log_mask: Vec<u8> = features.iter().map(|f| u8::from(f.log)).collect();
    g.constants.push(tensor("takes_log", &[width], BOOL, log_mask));
    let zero = g.constant("zero", &[], &[0.0]);
    let tiny = g.constant("smallest_positive", &[], &[f32::MIN_POSITIVE]);
    let half = g.constant("half", &[], &[0.5]);
    let mean = g.constant("mean", &[width], &features.iter().map(|f| f.mean).collect::<Vec<_>>());
    let std = g.constant("std", &[width], &features.iter().map(|f| f.std).collect::<Vec<_>>());

    // A value is missing when it is not finite, or not positive where the feature takes a log.
    let not_a_number = g.node("IsNaN", &[INPUT], vec![]);
    let infinite = g.node("IsInf", &[INPUT], vec![]);
    let not_finite = g.node("Or", &[&not_a_number, &infinite], vec![]);
    let positive = g.node("Greater", &[INPUT, &zero], vec![]);
    let not_positive = g.node("Not", &[&positive], vec![]);
    let outside_log = g.node("And", &[&not_positive, "takes_log"], vec![]);
    let missing = g.node("Or", &[&not_finite, &outside_log], vec![]);
    // The log where the feature takes one (of a safe positive value, so no NaN arises elsewhere).
    let safe = g.node("Max", &[INPUT, &tiny], vec![]);
    let logged = g.node("Log", &[&safe], vec![]);
    let raw = g.node("Where", &["takes_log", &logged, INPUT], vec![]);
    let centred = g.node("Sub", &[&raw, &mean], vec![]);
    let standardised = g.node("Div", &[&centred, &std], vec![]);
    // A missing value becomes the training mean (0 after standardising); under "drop" its row's score is
    // NaN at the end, as the page leaves such a row unscored.
    let x = g.node("Where", &[&missing, &zero, &standardised], vec![]);

    let hidden = g.dense("encoder_hidden", &x, &w.encoder_hidden);
    let h = g.node("Relu", &[&hidden], vec![]);
    let mu = g.dense("encoder_mean", &h, &w.encoder_mean);
    let decoded = g.dense("decoder_hidden", &mu, &w.decoder_hidden);
    let d = g.node("Relu", &[&decoded], vec![]);
    let x_hat = g.dense("decoder_output", &d, &w.decoder_output);
    let residual = g.node("Sub", &[&x, &x_hat], vec![]);
    let squared = g.node("Mul", &[&residual, &residual], vec![]);
    let summed = g.row_sum(&squared, axes);
    let mut score = g.node("Mul", &[&summed, &half], vec![]);
    if model.score_with_kl {
        score = g.kl_added(&score, &h, &mu, &w.encoder_log_variance, axes);
    }
    if model.preprocessing.missing == MissingPolicy::DropRow {
        let nan = g.constant("not_a_number", &[], &[f32::NAN]);
        let as_float = g.node("Cast", &[&missing], vec![int_attribute("to", FLOAT)]);
        let any = g.node("ReduceMax", &[&as_float], vec![int_attribute("keepdims", 0), ints_attribute("axes", &[1])]);
        let dropped = g.node("Greater", &[&any, &zero], vec![]);
        score = g.node("Where", &[&dropped, &nan, &score], vec![]);
    }
    g.node_as(OUTPUT, "Identity", &[&score], vec![]);
    // A JSON array: a column's name may hold a comma.
    let names = serde_json::to_string(&features.iter().map(|f| f.name.as_str()).collect::<Vec<_>>()).expect("strings serialise");
    g.into_file("anomaly_playground_table_vae", INPUT, width, &[
        ("feature_names", names.as_str()),
        ("score", "0.5 * sum((x - x_hat)^2) of the standardised features, plus the KL term when score_with_kl"),
        ("score_with_kl", if model.score_with_kl { "true" } else { "false" }),
        ("missing", if model.preprocessing.missing == MissingPolicy::DropRow { "drop: the row's score is NaN" } else { "impute: the training mean" }),
    ])
}

/// The digit view's autoencoder as ONNX: 784 pixel intensities in [0, 1] in (row by row, as MNIST's
/// images), the anomaly score out: the binary cross-entropy of the redrawn digit summed over its pixels,
/// max(l, 0) − x·l + ln(1 + e^(−|l|)) for each logit l, plus the KL term when `with_kl`, as the page
/// scores a digit. Plain operators: Gemm, Relu, Abs, Neg, Exp, Add, Log, Sub, Mul, ReduceSum, Identity.
pub fn export_digits(weights: &VaeWeights, with_kl: bool) -> Vec<u8> {
    let mut g = Graph::default();
    g.constants.push(tensor("feature_axis", &[1], INT64, 1i64.to_le_bytes().to_vec()));
    let axes = "feature_axis";
    let one = g.constant("softplus_one", &[], &[1.0]);
    let hidden = g.dense("encoder_hidden", DIGIT_INPUT, &weights.encoder_hidden);
    let h = g.node("Relu", &[&hidden], vec![]);
    let mu = g.dense("encoder_mean", &h, &weights.encoder_mean);
    let decoded = g.dense("decoder_hidden", &mu, &weights.decoder_hidden);
    let d = g.node("Relu", &[&decoded], vec![]);
    let logits = g.dense("decoder_output", &d, &weights.decoder_output);
    let positive_part = g.node("Relu", &[&logits], vec![]);
    let x_times_logits = g.node("Mul", &[DIGIT_INPUT, &logits], vec![]);
    let magnitude = g.node("Abs", &[&logits], vec![]);
    let negative = g.node("Neg", &[&magnitude], vec![]);
    let exponential = g.node("Exp", &[&negative], vec![]);
    let shifted = g.node("Add", &[&exponential, &one], vec![]);
    let softplus_tail = g.node("Log", &[&shifted], vec![]);
    let difference = g.node("Sub", &[&positive_part, &x_times_logits], vec![]);
    let per_pixel = g.node("Add", &[&difference, &softplus_tail], vec![]);
    let mut score = g.row_sum(&per_pixel, axes);
    if with_kl {
        score = g.kl_added(&score, &h, &mu, &weights.encoder_log_variance, axes);
    }
    g.node_as(OUTPUT, "Identity", &[&score], vec![]);
    g.into_file("anomaly_playground_digit_vae", DIGIT_INPUT, weights.inputs(), &[
        ("input", "784 pixel intensities in [0, 1] per row, row by row, as MNIST's 28x28 images"),
        ("score", "binary cross-entropy of the redrawn digit summed over its pixels, plus the KL term when score_with_kl"),
        ("score_with_kl", if with_kl { "true" } else { "false" }),
    ])
}

fn ints_attribute(name: &str, values: &[i64]) -> Message {
    let mut a = Message::default();
    a.text(1, name);
    for &v in values {
        a.int(8, v as u64);
    }
    a.int(20, 7);
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{dijet, parse_bytes, prepare::TableSetup, run::TableRun};

    /// The fields of one protobuf message: (field, wire type, varint or bytes).
    fn fields(mut bytes: &[u8]) -> Vec<(u64, u64, u64, Vec<u8>)> {
        fn varint(bytes: &mut &[u8]) -> u64 {
            let (mut value, mut shift) = (0u64, 0);
            loop {
                let b = bytes[0];
                *bytes = &bytes[1..];
                value |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b < 0x80 {
                    return value;
                }
            }
        }
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let key = varint(&mut bytes);
            let (field, wire) = (key >> 3, key & 7);
            match wire {
                0 => out.push((field, wire, varint(&mut bytes), Vec::new())),
                2 => {
                    let n = varint(&mut bytes) as usize;
                    out.push((field, wire, 0, bytes[..n].to_vec()));
                    bytes = &bytes[n..];
                }
                5 => {
                    out.push((field, wire, 0, bytes[..4].to_vec()));
                    bytes = &bytes[4..];
                }
                other => panic!("wire type {other}"),
            }
        }
        out
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn model(with_kl: bool) -> ModelFile {
        let table = parse_bytes(&dijet::to_csv(&dijet::generate(400, 0.05, 1)), 1 << 16).unwrap();
        let mut setup = TableSetup::suggested(&table);
        setup.model.optimiser.epochs = 1;
        setup.model.vae.score_with_kl = with_kl;
        let mut run = TableRun::new(&table, &setup, None).unwrap();
        while !run.training().is_finished() {
            run.step().unwrap();
        }
        run.model_file().unwrap()
    }

    /// The file parses as protobuf; the graph uses only the plain operators, every node's inputs exist
    /// before it (graph input, constant or an earlier node's output), and its output is the score.
    const PLAIN: [&str; 22] = [
        "Gemm", "Relu", "Sub", "Mul", "Div", "Add", "Log", "Exp", "Max", "Greater", "IsNaN", "IsInf", "Or", "And", "Not",
        "Where", "ReduceSum", "ReduceMax", "Cast", "Identity", "Neg", "Abs",
    ];

    /// Walks an exported file: opset and IR version, plain operators only, every input made before it is
    /// read, every name made once, the score last. Returns the operators in order.
    fn checked_ops(bytes: &[u8], input: &str) -> Vec<String> {
        let top = fields(bytes);
        assert!(top.iter().any(|f| f.0 == 1 && f.2 == IR_VERSION));
        let opset = fields(&top.iter().find(|f| f.0 == 8).unwrap().3);
        assert!(opset.iter().any(|f| f.0 == 2 && f.2 == OPSET));
        let graph = fields(&top.iter().find(|f| f.0 == 7).unwrap().3);
        let mut known: Vec<String> = vec![input.to_string()];
        let made = |name: String, known: &mut Vec<String>| {
            assert!(!known.contains(&name), "{name} is made twice");
            known.push(name);
        };
        for constant in graph.iter().filter(|f| f.0 == 5) {
            made(text(&fields(&constant.3).iter().find(|f| f.0 == 8).unwrap().3), &mut known);
        }
        let mut ops = Vec::new();
        for node in graph.iter().filter(|f| f.0 == 1) {
            let node = fields(&node.3);
            let op = text(&node.iter().find(|f| f.0 == 4).unwrap().3);
            assert!(PLAIN.contains(&op.as_str()), "{op}");
            for read in node.iter().filter(|f| f.0 == 1) {
                assert!(known.contains(&text(&read.3)), "{op} reads {} before it is made", text(&read.3));
            }
            for output in node.iter().filter(|f| f.0 == 2) {
                made(text(&output.3), &mut known);
            }
            ops.push(op);
        }
        assert_eq!(known.last().map(String::as_str), Some(OUTPUT));
        let declared_input = fields(&graph.iter().find(|f| f.0 == 11).unwrap().3);
        assert_eq!(text(&declared_input.iter().find(|f| f.0 == 1).unwrap().3), input);
        let output = fields(&graph.iter().find(|f| f.0 == 12).unwrap().3);
        assert_eq!(text(&output.iter().find(|f| f.0 == 1).unwrap().3), OUTPUT);
        ops
    }

    #[test]
    fn the_graph_is_well_formed_with_plain_operators_only() {
        for with_kl in [false, true] {
            let ops = checked_ops(&export(&model(with_kl)), INPUT);
            assert_eq!(ops.iter().filter(|o| *o == "Gemm").count(), if with_kl { 5 } else { 4 });
            assert_eq!(ops.contains(&"Exp".to_string()), with_kl, "the KL term only when the score adds it");
        }
    }

    #[test]
    fn the_digit_graph_is_well_formed_too() {
        let weights = model(false).weights;
        let digit_weights = crate::models::VaeWeights {
            encoder_hidden: DenseWeights { inputs: 784, outputs: weights.hidden(), weight: vec![0.01; 784 * weights.hidden()], bias: weights.encoder_hidden.bias.clone() },
            decoder_output: DenseWeights { inputs: weights.hidden(), outputs: 784, weight: vec![0.02; 784 * weights.hidden()], bias: vec![0.0; 784] },
            ..weights
        };
        for with_kl in [false, true] {
            let ops = checked_ops(&export_digits(&digit_weights, with_kl), DIGIT_INPUT);
            assert_eq!(ops.iter().filter(|o| *o == "Gemm").count(), if with_kl { 5 } else { 4 });
            assert_eq!(ops.iter().filter(|o| *o == "Exp").count(), if with_kl { 2 } else { 1 }, "the softplus, and the KL term's variance");
        }
    }
}
