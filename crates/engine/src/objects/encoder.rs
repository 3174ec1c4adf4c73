//! AnomalyCLR's encoder of an event (SCIENCE.md, "AnomalyCLR"): each object's inputs embedded, a small
//! transformer encoder over the objects (multi-head self-attention that never looks at empty slots, no
//! positional encoding, post-layer-norm blocks with a ReLU feed-forward), the outputs of empty slots
//! zeroed, a sum over the objects (so the order of the objects cannot matter), a ReLU + linear head, and
//! the result scaled to unit length. DeepSets is the cheap alternative: a per-object network, then the sum.
//!
//! Only ops with a backward pass: candle's composite `softmax` (not `softmax_last_dim`) and a layer norm
//! written here (not `ops::layer_norm`), as SCIENCE.md warns. No dropout: the page trains small and
//! reproducibly (the paper's encoder uses 0.1).

use candle_core::{Device, Result, Tensor, D};
use candle_nn::{linear, Linear, Module, VarBuilder};

use super::{Event, ObjectType, FEATURES_PER_SLOT, SLOTS};

/// An object's inputs: its features (log(1 + pT), η, sin φ, cos φ) and its type, one-hot over the four.
pub const INPUTS_PER_OBJECT: usize = FEATURES_PER_SLOT + 4;
/// The attention logit of an empty slot: its weight underflows to zero.
const MASKED: f32 = -1.0e9;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EncoderKind {
    Transformer,
    DeepSets,
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EncoderConfig {
    pub kind: EncoderKind,
    /// The width of each object's representation inside the encoder.
    pub width: usize,
    pub heads: usize,
    pub layers: usize,
    pub feed_forward: usize,
    /// The length of the event's representation.
    pub output: usize,
}

impl Default for EncoderConfig {
    /// Sized for about a minute of training on one core (the paper's is larger; the page says by how much).
    fn default() -> Self {
        Self { kind: EncoderKind::Transformer, width: 32, heads: 4, layers: 2, feed_forward: 64, output: 32 }
    }
}

/// Events as the encoder takes them: objects (events × slots × inputs) and which slots hold one (events ×
/// slots, 1 or 0).
pub struct ObjectBatch {
    pub objects: Tensor,
    pub mask: Tensor,
}

impl ObjectBatch {
    pub fn of(events: &[Event], device: &Device) -> Result<Self> {
        let mut objects = vec![0f32; events.len() * SLOTS * INPUTS_PER_OBJECT];
        let mut mask = vec![0f32; events.len() * SLOTS];
        for (e, event) in events.iter().enumerate() {
            let features = event.features();
            for (slot, _) in event.objects() {
                let at = (e * SLOTS + slot) * INPUTS_PER_OBJECT;
                objects[at..at + FEATURES_PER_SLOT].copy_from_slice(&features[slot * FEATURES_PER_SLOT..(slot + 1) * FEATURES_PER_SLOT]);
                objects[at + FEATURES_PER_SLOT + ObjectType::of_slot(slot) as usize - 1] = 1.0;
                mask[e * SLOTS + slot] = 1.0;
            }
        }
        Ok(Self {
            objects: Tensor::from_vec(objects, (events.len(), SLOTS, INPUTS_PER_OBJECT), device)?,
            mask: Tensor::from_vec(mask, (events.len(), SLOTS), device)?,
        })
    }
}

/// A layer norm over the last dimension with a learned gain and bias, from differentiable ops.
#[derive(Clone)]
struct Norm {
    gain: Tensor,
    bias: Tensor,
}

impl Norm {
    fn new(width: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self { gain: vb.get(width, "gain")?, bias: vb.get(width, "bias")? })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let variance = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(variance + 1e-5)?.sqrt()?)?;
        normed.broadcast_mul(&self.gain)?.broadcast_add(&self.bias)
    }
}

/// One post-layer-norm transformer block: x = norm(x + attention(x)); x = norm(x + feed_forward(x)).
#[derive(Clone)]
struct Block {
    query: Linear,
    key: Linear,
    value: Linear,
    out: Linear,
    attention_norm: Norm,
    hidden: Linear,
    back: Linear,
    feed_forward_norm: Norm,
    heads: usize,
}

impl Block {
    fn new(config: &EncoderConfig, vb: VarBuilder) -> Result<Self> {
        let w = config.width;
        Ok(Self {
            query: linear(w, w, vb.pp("query"))?,
            key: linear(w, w, vb.pp("key"))?,
            value: linear(w, w, vb.pp("value"))?,
            out: linear(w, w, vb.pp("out"))?,
            attention_norm: Norm::new(w, vb.pp("attention_norm"))?,
            hidden: linear(w, config.feed_forward, vb.pp("hidden"))?,
            back: linear(config.feed_forward, w, vb.pp("back"))?,
            feed_forward_norm: Norm::new(w, vb.pp("feed_forward_norm"))?,
            heads: config.heads,
        })
    }

    /// `x`: events × slots × width; `key_bias`: events × 1 × 1 × slots, 0 or [`MASKED`].
    fn forward(&self, x: &Tensor, key_bias: &Tensor) -> Result<Tensor> {
        let (events, slots, width) = x.dims3()?;
        let per_head = width / self.heads;
        let split = |t: Tensor| -> Result<Tensor> { t.reshape((events, slots, self.heads, per_head))?.transpose(1, 2)?.contiguous() };
        let (q, k, v) = (split(self.query.forward(x)?)?, split(self.key.forward(x)?)?, split(self.value.forward(x)?)?);
        let logits = (q.matmul(&k.transpose(2, 3)?.contiguous()?)? / (per_head as f64).sqrt())?.broadcast_add(key_bias)?;
        let weights = candle_nn::ops::softmax(&logits, D::Minus1)?;
        let attended = weights.matmul(&v)?.transpose(1, 2)?.reshape((events, slots, width))?;
        let x = self.attention_norm.forward(&(x + self.out.forward(&attended)?)?)?;
        let fed = self.back.forward(&self.hidden.forward(&x)?.relu()?)?;
        self.feed_forward_norm.forward(&(x + fed)?)
    }
}

#[derive(Clone)]
pub struct Encoder {
    config: EncoderConfig,
    embed: Linear,
    /// The transformer's blocks, or DeepSets' second per-object layer.
    blocks: Vec<Block>,
    per_object: Option<Linear>,
    head: Linear,
}

impl Encoder {
    pub fn new(config: EncoderConfig, vb: VarBuilder) -> Result<Self> {
        let embed = linear(INPUTS_PER_OBJECT, config.width, vb.pp("embed"))?;
        let (blocks, per_object) = match config.kind {
            EncoderKind::Transformer => ((0..config.layers).map(|i| Block::new(&config, vb.pp(format!("block{i}")))).collect::<Result<Vec<_>>>()?, None),
            EncoderKind::DeepSets => (Vec::new(), Some(linear(config.width, config.width, vb.pp("per_object"))?)),
        };
        Ok(Self { config, embed, blocks, per_object, head: linear(config.width, config.output, vb.pp("head"))? })
    }

    pub fn config(&self) -> EncoderConfig {
        self.config
    }

    /// The events' representations, unit vectors (events × output).
    pub fn forward(&self, batch: &ObjectBatch) -> Result<Tensor> {
        let present = batch.mask.unsqueeze(2)?; // events × slots × 1
        let mut x = self.embed.forward(&batch.objects)?;
        match &self.per_object {
            Some(second) => x = second.forward(&x.relu()?)?.relu()?,
            None => {
                let absent = (batch.mask.ones_like()? - &batch.mask)?;
                let key_bias = (absent * f64::from(MASKED))?.unsqueeze(1)?.unsqueeze(1)?;
                for block in &self.blocks {
                    x = block.forward(&x, &key_bias)?;
                }
            }
        }
        // Empty slots contribute nothing; the sum makes the order of the objects irrelevant.
        let pooled = x.broadcast_mul(&present)?.sum(1)?;
        let z = self.head.forward(&pooled.relu()?)?;
        let length = (z.sqr()?.sum_keepdim(D::Minus1)? + 1e-12)?.sqrt()?;
        z.broadcast_div(&length)
    }
}

/// The AnomalyCLR loss (and its "+" variant) of a batch's representations: `z` of the events, `physical`
/// of their physically augmented copies, `anomalous` of their anomalously augmented ones, all unit
/// vectors. For each of the 2B rows of [z; physical], the positive pair's similarity minus the similarity
/// of the event to its anomalous copy, over the temperature, against (unless `plus`) the log of the summed
/// exponentiated similarities to every other row but itself and its positive partner. Without
/// `anomalous`, it is the plain contrastive loss of physical augmentations only (the paper's ablation).
pub fn anomaly_clr_loss(z: &Tensor, physical: &Tensor, anomalous: Option<&Tensor>, temperature: f64, plus: bool) -> Result<Tensor> {
    let batch = z.dim(0)?;
    let both = Tensor::cat(&[z, physical], 0)?;
    let mut numerator = (z * physical)?.sum(D::Minus1)?; // s(z_i, z_i′), for both halves
    if let Some(anomalous) = anomalous {
        numerator = (numerator - (z * anomalous)?.sum(D::Minus1)?)?; // minus s(z_i, z_i*)
    }
    let numerator = (numerator / temperature)?;
    let numerator = Tensor::cat(&[&numerator, &numerator], 0)?; // 2B
    if plus {
        return numerator.neg()?.mean_all();
    }
    let similarity = (both.matmul(&both.t()?)? / temperature)?.exp()?;
    // Every other row but the positive partner: 1 off the diagonal and off the ±B diagonals.
    let n = 2 * batch;
    let keep: Vec<f32> = (0..n * n).map(|k| (k / n, k % n)).map(|(i, j)| f32::from(i != j && i.abs_diff(j) != batch)).collect();
    let keep = Tensor::from_vec(keep, (n, n), z.device())?;
    let denominator = (similarity * keep)?.sum(D::Minus1)?.log()?;
    (denominator - numerator)?.mean_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::{parameters_without_gradient, StepContext, TrainStep};
    use crate::models::init::seeded_init;
    use crate::objects::toy::background;
    use crate::objects::{Object, JETS};
    use crate::rng::SeededRng;
    use crate::train::sorted_vars;
    use candle_core::{DType, Var};
    use candle_nn::VarMap;

    /// The loss of a batch of events with given copies.
    fn loss_of(encoder: &Encoder, events: &[Event], physical: &[Event], anomalous: &[Event], temperature: f64, plus: bool) -> Result<Tensor> {
        let device = Device::Cpu;
        let z = encoder.forward(&ObjectBatch::of(events, &device)?)?;
        let zp = encoder.forward(&ObjectBatch::of(physical, &device)?)?;
        let za = encoder.forward(&ObjectBatch::of(anomalous, &device)?)?;
        anomaly_clr_loss(&z, &zp, Some(&za), temperature, plus)
    }

    fn encoder(kind: EncoderKind) -> (Encoder, VarMap) {
        let varmap = VarMap::new();
        let config = EncoderConfig { kind, ..EncoderConfig::default() };
        let encoder = Encoder::new(config, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        seeded_init(&varmap, 3).unwrap();
        (encoder, varmap)
    }

    fn largest_difference(a: &Tensor, b: &Tensor) -> f32 {
        (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
    }

    #[test]
    fn the_order_of_the_objects_and_what_empty_slots_hold_change_nothing() {
        let events = background(16, 5);
        let batch = ObjectBatch::of(&events, &Device::Cpu).unwrap();
        let mut order: Vec<u32> = (0..SLOTS as u32).collect();
        SeededRng::new(2).shuffle(&mut order);
        let order = Tensor::new(order.as_slice(), &Device::Cpu).unwrap();
        let shuffled = ObjectBatch { objects: batch.objects.index_select(&order, 1).unwrap(), mask: batch.mask.index_select(&order, 1).unwrap() };
        // Rubbish in every empty slot.
        let noise = Tensor::randn(0f32, 3.0, batch.objects.dims(), &Device::Cpu).unwrap();
        let empty = (batch.mask.ones_like().unwrap() - &batch.mask).unwrap().unsqueeze(2).unwrap();
        let stuffed = ObjectBatch { objects: (&batch.objects + noise.broadcast_mul(&empty).unwrap()).unwrap(), mask: batch.mask.clone() };
        for kind in [EncoderKind::Transformer, EncoderKind::DeepSets] {
            let (encoder, _vars) = encoder(kind);
            let z = encoder.forward(&batch).unwrap();
            assert_eq!(z.dims(), [16, 32]);
            let lengths = z.sqr().unwrap().sum(1).unwrap().to_vec1::<f32>().unwrap();
            assert!(lengths.iter().all(|l| (l - 1.0).abs() < 1e-5), "unit vectors: {lengths:?}");
            assert!(largest_difference(&z, &encoder.forward(&shuffled).unwrap()) < 1e-5, "{kind:?}: the order of the objects changed z");
            assert!(largest_difference(&z, &encoder.forward(&stuffed).unwrap()) < 1e-5, "{kind:?}: an empty slot's contents changed z");
        }
    }

    #[test]
    fn the_loss_is_the_formula_on_a_batch_worked_by_hand() {
        let unit = |v: [f32; 2]| {
            let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
            [v[0] / n, v[1] / n]
        };
        let (z, p, a) = ([unit([1.0, 0.0]), unit([0.0, 1.0])], [unit([1.0, 0.2]), unit([0.3, 1.0])], [unit([0.0, 1.0]), unit([1.0, 1.0])]);
        let t = |rows: [[f32; 2]; 2]| Tensor::new(&rows, &Device::Cpu).unwrap();
        let tau = 0.5f64;
        let dot = |x: [f32; 2], y: [f32; 2]| (x[0] * y[0] + x[1] * y[1]) as f64;
        // Rows [z0, z1, p0, p1]: each row's negatives are the two rows other than itself and its partner.
        let rows = [z[0], z[1], p[0], p[1]];
        let mut expected = 0.0;
        for k in 0..4 {
            let i = k % 2;
            let numerator = (dot(z[i], p[i]) - dot(z[i], a[i])) / tau;
            let others: f64 = (0..4).filter(|&j| j != k && j != (k + 2) % 4).map(|j| (dot(rows[k], rows[j]) / tau).exp()).sum();
            expected += others.ln() - numerator;
        }
        expected /= 4.0;
        let got = anomaly_clr_loss(&t(z), &t(p), Some(&t(a)), tau, false).unwrap().to_scalar::<f32>().unwrap() as f64;
        assert!((got - expected).abs() < 1e-5, "{got} against {expected}");
        let plus: f64 = -(0..2).map(|i| (dot(z[i], p[i]) - dot(z[i], a[i])) / tau).sum::<f64>() / 2.0;
        let got_plus = anomaly_clr_loss(&t(z), &t(p), Some(&t(a)), tau, true).unwrap().to_scalar::<f32>().unwrap() as f64;
        assert!((got_plus - plus).abs() < 1e-5, "{got_plus} against {plus}");
    }

    /// The loss of fixed events with simple copies: turned in φ (physical), and with an extra jet (anomalous).
    struct Fixed {
        encoder: Encoder,
        events: Vec<Event>,
        physical: Vec<Event>,
        anomalous: Vec<Event>,
    }

    impl TrainStep for Fixed {
        fn loss(&self, _: &Tensor, _: &mut StepContext) -> Result<Tensor> {
            loss_of(&self.encoder, &self.events, &self.physical, &self.anomalous, 0.1, false)
        }
    }

    #[test]
    fn every_parameter_receives_a_gradient() {
        let events = background(32, 8);
        let physical: Vec<Event> = events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.slots.iter_mut().filter(|o| !o.is_empty()).for_each(|o| o.phi += 0.7);
                e
            })
            .collect();
        let anomalous: Vec<Event> = events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(slot) = JETS.clone().find(|&s| e.slots[s].is_empty()) {
                    e.slots[slot] = Object { pt: 20.0, eta: 1.0, phi: -2.0 };
                }
                e
            })
            .collect();
        for kind in [EncoderKind::Transformer, EncoderKind::DeepSets] {
            let (encoder, varmap) = encoder(kind);
            let names: Vec<(String, Var)> = {
                let data = varmap.data().lock().unwrap();
                let mut named: Vec<(String, Var)> = data.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
                named.sort_by(|a, b| a.0.cmp(&b.0));
                named
            };
            assert_eq!(names.len(), sorted_vars(&varmap).len());
            let model = Fixed { encoder, events: events.clone(), physical: physical.clone(), anomalous: anomalous.clone() };
            let unused = Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap();
            assert_eq!(parameters_without_gradient(&model, &names, &unused, 1).unwrap(), Vec::<String>::new(), "{kind:?}");
        }
    }
}
