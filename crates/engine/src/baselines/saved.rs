//! Fitted detectors as named tensors plus a few numbers, so that a model file (`table::model_file`) can
//! carry them and the native scorer can score with them exactly as the page did. Arrays go into tensors
//! (bit-exact, and readable from Python with `safetensors` and numpy); counts and settings go into a
//! small JSON object. Reading checks every shape and value a crafted file could get wrong, so a loaded
//! detector never indexes out of its arrays or loops.

use safetensors::tensor::{Dtype, SafeTensors};
use serde_json::{json, Value};

use super::{ecod, forest, knn, lof, pca, Baseline, BaselineKind};

/// One tensor to be written: its name, type, shape and little-endian bytes.
pub struct SavedTensor {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

/// Collects the tensors of a file being written.
#[derive(Default)]
pub struct TensorWriter {
    pub tensors: Vec<SavedTensor>,
}

impl TensorWriter {
    fn push(&mut self, name: String, dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) {
        self.tensors.push(SavedTensor { name, dtype, shape, bytes });
    }

    pub fn f32s(&mut self, name: impl Into<String>, shape: &[usize], values: &[f32]) {
        self.push(name.into(), Dtype::F32, shape.to_vec(), values.iter().flat_map(|v| v.to_le_bytes()).collect());
    }

    pub fn f64s(&mut self, name: impl Into<String>, shape: &[usize], values: &[f64]) {
        self.push(name.into(), Dtype::F64, shape.to_vec(), values.iter().flat_map(|v| v.to_le_bytes()).collect());
    }

    pub fn u32s(&mut self, name: impl Into<String>, shape: &[usize], values: &[u32]) {
        self.push(name.into(), Dtype::U32, shape.to_vec(), values.iter().flat_map(|v| v.to_le_bytes()).collect());
    }

    pub fn i8s(&mut self, name: impl Into<String>, shape: &[usize], values: &[i8]) {
        self.push(name.into(), Dtype::I8, shape.to_vec(), values.iter().map(|&v| v as u8).collect());
    }
}

/// Reads typed tensors of a known shape out of a file, with a sentence when one is missing or wrong.
pub struct TensorReader<'a, 'b> {
    pub tensors: &'b SafeTensors<'a>,
}

impl<'a> TensorReader<'a, '_> {
    fn bytes(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&'a [u8], String> {
        let view = self.tensors.tensor(name).map_err(|_| format!("the tensor \"{name}\" is missing"))?;
        if view.dtype() != dtype || view.shape() != shape {
            return Err(format!("the tensor \"{name}\" is {:?} {:?}; it should be {dtype:?} {shape:?}", view.dtype(), view.shape()));
        }
        Ok(view.data())
    }

    /// Finite `f32`s only: no detector can use a NaN or an infinity.
    pub fn f32s(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let values: Vec<f32> = self.bytes(name, Dtype::F32, shape)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        finite(name, values.iter().all(|v| v.is_finite()))?;
        Ok(values)
    }

    pub fn f64s(&self, name: &str, shape: &[usize]) -> Result<Vec<f64>, String> {
        let values: Vec<f64> =
            self.bytes(name, Dtype::F64, shape)?.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect();
        finite(name, values.iter().all(|v| v.is_finite()))?;
        Ok(values)
    }

    pub fn u32s(&self, name: &str, shape: &[usize]) -> Result<Vec<u32>, String> {
        Ok(self.bytes(name, Dtype::U32, shape)?.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    pub fn i8s(&self, name: &str, shape: &[usize]) -> Result<Vec<i8>, String> {
        Ok(self.bytes(name, Dtype::I8, shape)?.iter().map(|&b| b as i8).collect())
    }
}

fn finite(name: &str, ok: bool) -> Result<(), String> {
    if ok { Ok(()) } else { Err(format!("the tensor \"{name}\" holds a value that is not a finite number")) }
}

/// A count from a method's numbers, with a sentence when it is missing or not a count.
pub fn count(meta: &Value, key: &str) -> Result<usize, String> {
    let method = meta.get("method").and_then(Value::as_str).unwrap_or("?");
    meta.get(key)
        .and_then(Value::as_u64)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| format!("the {method} method's \"{key}\" is missing or not a count"))
}

/// Fails with `message` unless `ok`.
pub fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(message()) }
}

/// The kept training rows' indices among the rows given must rise and stay below that count.
pub fn check_kept(method: &str, kept: &[u32], rows_given: usize) -> Result<(), String> {
    check(kept.windows(2).all(|w| w[0] < w[1]) && kept.last().is_none_or(|&l| (l as usize) < rows_given), || {
        format!("the {method} method's kept rows are not distinct rows of the {rows_given} it was fitted on")
    })
}

/// Every tensor name of a method starts with this.
pub fn prefix(kind: BaselineKind) -> String {
    format!("baselines.{}.", kind.key())
}

impl Baseline {
    /// Writes the fitted detector's arrays to `out` and returns its numbers (with `"method"`).
    pub fn save(&self, out: &mut TensorWriter) -> Value {
        let p = prefix(self.kind());
        let mut meta = match self {
            Baseline::Pca(m) => m.save(&p, out),
            Baseline::IsolationForest(m) => m.save(&p, out),
            Baseline::Knn(m) => m.save(&p, out),
            Baseline::Ecod(m) => m.save(&p, out),
            Baseline::Lof(m) => m.save(&p, out),
        };
        meta["method"] = json!(self.kind().key());
        meta
    }

    /// A detector of `width` features from its numbers and the file's tensors.
    pub fn load(meta: &Value, tensors: &TensorReader, width: usize) -> Result<Baseline, String> {
        let key = meta.get("method").and_then(Value::as_str).unwrap_or_default();
        let kind = BaselineKind::from_key(key).ok_or_else(|| format!("it holds a method \"{}\" this build does not know", key.chars().take(40).collect::<String>()))?;
        let p = prefix(kind);
        Ok(match kind {
            BaselineKind::Pca => Baseline::Pca(pca::Pca::load(meta, &p, tensors, width)?),
            BaselineKind::IsolationForest => Baseline::IsolationForest(forest::IsolationForest::load(meta, &p, tensors, width)?),
            BaselineKind::Knn => Baseline::Knn(knn::Knn::load(meta, &p, tensors, width)?),
            BaselineKind::Ecod => Baseline::Ecod(ecod::Ecod::load(meta, &p, tensors, width)?),
            BaselineKind::Lof => Baseline::Lof(lof::Lof::load(meta, &p, tensors, width)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use safetensors::tensor::TensorView;

    use super::*;
    use crate::baselines::test_data::normal_rows;
    use crate::baselines::{BaselineSettings, Rows};

    /// The detector written as a file would hold it and read back.
    fn round_trip(model: &Baseline, edit: impl FnOnce(&mut Value, &mut TensorWriter)) -> Result<Baseline, String> {
        let mut writer = TensorWriter::default();
        let mut meta = model.save(&mut writer);
        edit(&mut meta, &mut writer);
        let views = writer.tensors.iter().map(|t| (t.name.clone(), TensorView::new(t.dtype, t.shape.clone(), &t.bytes).unwrap()));
        let bytes = safetensors::serialize(views, None).unwrap();
        let tensors = SafeTensors::deserialize(&bytes).unwrap();
        Baseline::load(&meta, &TensorReader { tensors: &tensors }, model.width())
    }

    /// Every method, loaded, scores training rows (as themselves) and new rows to the same bits, and
    /// explains them the same way.
    #[test]
    fn a_loaded_detector_scores_and_explains_exactly_as_the_fitted_one() {
        for width in [3, 18] {
            let train = normal_rows(300, width, 1);
            let fresh = normal_rows(50, width, 2);
            let settings = BaselineSettings { lof_k: 10, ..Default::default() };
            for kind in BaselineKind::ALL {
                let fitted = Baseline::fit(kind, Rows::new(&train, width), &settings).unwrap();
                let loaded = round_trip(&fitted, |_, _| {}).unwrap();
                let as_training = |model: &Baseline| {
                    let mut out = vec![0f32; 300];
                    model.score_into(Rows::new(&train, width), &|i| Some(i), &mut out);
                    out.iter().map(|s| s.to_bits()).collect::<Vec<_>>()
                };
                assert_eq!(as_training(&fitted), as_training(&loaded), "{kind:?} on its training rows, {width} features");
                let bits = |v: Vec<f32>| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(fitted.score(Rows::new(&fresh, width))), bits(loaded.score(Rows::new(&fresh, width))), "{kind:?} on new rows");
                for (row, place) in [(&train[7 * width..8 * width], Some(7)), (&fresh[..width], None)] {
                    assert_eq!(fitted.explain(row, place), loaded.explain(row, place), "{kind:?} explains alike");
                }
            }
        }
    }

    #[test]
    fn a_damaged_detector_is_refused_with_a_sentence() {
        let train = normal_rows(200, 4, 3);
        let fit = |kind| Baseline::fit(kind, Rows::new(&train, 4), &BaselineSettings::default()).unwrap();
        let replace = |writer: &mut TensorWriter, name: &str, bytes: Vec<u8>| {
            writer.tensors.iter_mut().find(|t| t.name == name).unwrap().bytes = bytes;
        };
        // A cut whose child points back at the root would loop forever.
        let error = round_trip(&fit(BaselineKind::IsolationForest), |_, w| {
            let mut left: Vec<u8> = w.tensors.iter().find(|t| t.name == "baselines.iforest.left").unwrap().bytes.clone();
            left[..4].copy_from_slice(&0u32.to_le_bytes());
            replace(w, "baselines.iforest.left", left);
        })
        .unwrap_err();
        assert_eq!(error, "the forest's node 0 cuts on a feature or leads to a node that does not exist");
        let error = round_trip(&fit(BaselineKind::Ecod), |_, w| {
            let mut sorted = w.tensors.iter().find(|t| t.name == "baselines.ecod.sorted").unwrap().bytes.clone();
            sorted[..4].copy_from_slice(&1e9f32.to_le_bytes());
            replace(w, "baselines.ecod.sorted", sorted);
        })
        .unwrap_err();
        assert_eq!(error, "ECOD's columns are not sorted");
        let error = round_trip(&fit(BaselineKind::Knn), |meta, _| meta["k"] = json!(500)).unwrap_err();
        assert_eq!(error, "kNN keeps 200 rows for k = 500");
        let error = round_trip(&fit(BaselineKind::Lof), |meta, _| meta["rows"] = json!(150)).unwrap_err();
        assert_eq!(error, "the tensor \"baselines.lof.kept\" is U32 [200]; it should be U32 [150]");
        let error = round_trip(&fit(BaselineKind::Pca), |_, w| {
            let mut mean = w.tensors.iter().find(|t| t.name == "baselines.pca.mean").unwrap().bytes.clone();
            mean[..8].copy_from_slice(&f64::NAN.to_le_bytes());
            replace(w, "baselines.pca.mean", mean);
        })
        .unwrap_err();
        assert_eq!(error, "the tensor \"baselines.pca.mean\" holds a value that is not a finite number");
        let error = round_trip(&fit(BaselineKind::Pca), |meta, _| meta["method"] = json!("svm")).unwrap_err();
        assert_eq!(error, "it holds a method \"svm\" this build does not know");
    }
}
