//! The one seam between the CPU and WebGPU. Everything that scores rows (the test digits, the visitor's
//! table) prepares a [`ModelScorer`] and awaits [`ModelScorer::score`]; which device does the arithmetic
//! is decided here, from the visitor's choice and what the browser offers.
//!
//! Any WebGPU failure (no `navigator.gpu`, no adapter, no device, a device lost mid-run) is told to the
//! page once, as a sentence, and the batch in hand is scored on the CPU instead: no score is lost, and
//! none is computed twice. Both paths give the same scores to float rounding (the GPU crate's parity
//! tests, natively and in the browser tests).

use std::cell::RefCell;
use std::rc::Rc;

use anomaly_engine::data::{DigitSet, IMAGE_PIXELS};
use anomaly_engine::inference::CpuScorer;
use anomaly_engine::models::{Likelihood, ScoringModel};
use anomaly_engine::train::{TrainData, Trainer};
use anomaly_engine::settings::ModelSettings;
use anomaly_gpu::{Gpu, GpuError, GpuModel};
use wasm_bindgen::{JsCast, JsValue};

use super::{now_ms, post, spawn, yield_to_event_loop, CHUNK_MILLISECONDS};
use crate::protocol::{Backend, BackendChoice, BackendStatus, Event};

enum GpuState {
    Untried,
    Starting,
    Ready(Rc<Gpu>),
    /// Why WebGPU is not used, as the sentence the page shows.
    Unavailable(String),
}

struct Backends {
    choice: BackendChoice,
    gpu: GpuState,
}

thread_local! {
    // A worker has one thread; both the digit session and the table run score through this.
    static BACKENDS: RefCell<Backends> = const { RefCell::new(Backends { choice: BackendChoice::Automatic, gpu: GpuState::Untried }) };
}

/// At worker start: find out what the browser offers, so the page can say it before anything is scored.
pub fn start() {
    choose(BackendChoice::Automatic);
}

/// The visitor's choice. Choosing WebGPU (or automatic) again after a failure tries again.
pub fn choose(choice: BackendChoice) {
    let try_gpu = BACKENDS.with_borrow_mut(|b| {
        b.choice = choice;
        if choice != BackendChoice::Cpu && matches!(b.gpu, GpuState::Unavailable(_)) {
            b.gpu = GpuState::Untried;
        }
        choice != BackendChoice::Cpu && matches!(b.gpu, GpuState::Untried)
    });
    if try_gpu {
        spawn(async {
            let _ = opened_gpu().await;
        });
    } else {
        post_status();
    }
}

pub(super) fn post_status() {
    post(&Event::Backend(status()));
}

fn status() -> BackendStatus {
    BACKENDS.with_borrow(|b| {
        let adapter = match &b.gpu {
            GpuState::Ready(gpu) => Some(gpu.adapter().to_string()),
            _ => None,
        };
        let (active, note) = match (&b.gpu, b.choice) {
            (_, BackendChoice::Cpu) => (Some(Backend::Cpu), None),
            (GpuState::Ready(gpu), BackendChoice::Automatic) if gpu.is_software() => (Some(Backend::Cpu), Some(software_note(gpu))),
            (GpuState::Ready(_), _) => (Some(Backend::WebGpu), None),
            (GpuState::Unavailable(why), _) => (Some(Backend::Cpu), Some(why.clone())),
            (GpuState::Untried | GpuState::Starting, _) => (None, None),
        };
        BackendStatus { choice: b.choice, active, adapter, note, threads: super::threads::status() }
    })
}

enum Next {
    Answer(Option<Rc<Gpu>>),
    Wait,
    Open,
}

/// The browser's GPU, or None when WebGPU is not available. The first call opens the device; calls made
/// meanwhile wait for it.
async fn opened_gpu() -> Option<Rc<Gpu>> {
    loop {
        let next = BACKENDS.with_borrow_mut(|b| match &b.gpu {
            GpuState::Unavailable(_) => Next::Answer(None),
            GpuState::Ready(gpu) => Next::Answer(Some(gpu.clone())),
            GpuState::Starting => Next::Wait,
            GpuState::Untried => {
                b.gpu = GpuState::Starting;
                Next::Open
            }
        });
        match next {
            Next::Answer(gpu) => return gpu,
            Next::Wait => yield_to_event_loop().await,
            Next::Open => break,
        }
    }
    post_status(); // the page says "setting up WebGPU"
    let state = match open_gpu().await {
        Ok(mut gpu) => {
            // wgpu's browser backend leaves the adapter's name empty; the browser itself knows it.
            if let Some((name, software)) = browser_adapter().await {
                gpu.describe_adapter(name, software);
            }
            GpuState::Ready(Rc::new(gpu))
        }
        Err(why) => GpuState::Unavailable(why),
    };
    BACKENDS.with_borrow_mut(|b| b.gpu = state);
    post_status();
    BACKENDS.with_borrow(|b| match &b.gpu {
        GpuState::Ready(gpu) => Some(gpu.clone()),
        _ => None,
    })
}

/// Whether scoring should run on this GPU. A software adapter (SwiftShader, lavapipe) emulates a GPU on
/// the CPU's cores and is many times slower than the CPU kernel, so automatic leaves it alone; the
/// visitor can still choose it.
fn uses(gpu: &Gpu, choice: BackendChoice) -> bool {
    match choice {
        BackendChoice::Cpu => false,
        BackendChoice::WebGpu => true,
        BackendChoice::Automatic => !gpu.is_software(),
    }
}

fn software_note(gpu: &Gpu) -> String {
    format!(
        "This browser's WebGPU adapter ({}) is a software one that emulates a GPU on the processor, slower than \
         scoring on the CPU directly, so scoring runs on the CPU. Choose WebGPU to use it anyway.",
        gpu.adapter()
    )
}

async fn open_gpu() -> Result<Gpu, String> {
    if has_webgpu() {
        Gpu::new().await.map_err(|err| match err {
            GpuError::NoAdapter(detail) => {
                format!("This browser has WebGPU but offered no GPU adapter ({detail}), so scoring runs on the CPU, with the same scores.")
            }
            GpuError::NoDevice(detail) => {
                format!("The GPU adapter refused to open a device ({detail}), so scoring runs on the CPU, with the same scores.")
            }
            other => format!("WebGPU could not be set up ({other}), so scoring runs on the CPU, with the same scores."),
        })
    } else {
        Err("This browser has no WebGPU (navigator.gpu is missing), so scoring runs on the CPU: the same scores, \
             usually more slowly."
            .to_string())
    }
}

/// "vendor architecture: description" of the browser's default adapter, from `GPUAdapter.info`, and
/// whether it is a fallback (software) adapter.
async fn browser_adapter() -> Option<(String, bool)> {
    let get = |target: &JsValue, key: &str| js_sys::Reflect::get(target, &JsValue::from_str(key)).ok();
    let navigator = get(&js_sys::global(), "navigator")?;
    let gpu = get(&navigator, "gpu")?;
    let request: js_sys::Function = get(&gpu, "requestAdapter")?.dyn_into().ok()?;
    let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    let info = get(&adapter, "info")?;
    let text = |key: &str| get(&info, key).and_then(|v| v.as_string()).filter(|s| !s.is_empty());
    let mut name = [text("vendor"), text("architecture")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if let Some(description) = text("description") {
        name = if name.is_empty() { description } else { format!("{name}: {description}") };
    }
    let software = get(&info, "isFallbackAdapter").and_then(|v| v.as_bool()).unwrap_or(false)
        || text("architecture").as_deref() == Some("swiftshader");
    Some((name, software)).filter(|(n, _)| !n.is_empty())
}

fn has_webgpu() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &JsValue::from_str("navigator"))
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu")))
        .is_ok_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// WebGPU failed while scoring: say so once and use the CPU from now on (until the visitor retries).
fn lost(err: &GpuError) {
    let already = BACKENDS.with_borrow_mut(|b| {
        let already = matches!(b.gpu, GpuState::Unavailable(_));
        if !already {
            b.gpu = GpuState::Unavailable(format!(
                "WebGPU stopped working during scoring ({err}). The rest was scored on the CPU, so no score was lost \
                 or counted twice; choose WebGPU again to retry."
            ));
        }
        already
    });
    if !already {
        post_status();
    }
}

/// One model, of any method, ready to score on whichever backend is in use.
pub struct ModelScorer {
    cpu: CpuScorer,
    gpu: Option<(Rc<Gpu>, GpuModel)>,
}

impl ModelScorer {
    /// Prepares the CPU kernel and, if WebGPU is in use and has kernels for the model's method, uploads
    /// the weights to the GPU.
    pub async fn new(model: &ScoringModel) -> Self {
        let choice = BACKENDS.with_borrow(|b| b.choice);
        Self::on(choice, model).await
    }

    /// Where the next batch will be scored.
    pub fn backend(&self) -> Backend {
        if self.gpu.is_some() { Backend::WebGpu } else { Backend::Cpu }
    }

    /// One score per row of `rows` (row-major, as many values per row as the model has inputs).
    pub async fn score(&mut self, rows: &[f32]) -> Vec<f32> {
        if let Some((gpu, model)) = &self.gpu {
            match gpu.score_model(model, rows).await {
                Ok(scores) => return scores,
                Err(err) => {
                    self.gpu = None;
                    lost(&err);
                }
            }
        }
        self.score_on_cpu(rows).await
    }

    /// The CPU kernel, in slices with a pause between them so that the worker keeps answering messages.
    async fn score_on_cpu(&self, rows: &[f32]) -> Vec<f32> {
        // About 1,300 digits or 50,000 table rows: several milliseconds, so that each call's set-up
        // (and, in the threaded build, waking the other threads) costs nothing beside it.
        const SLICE_VALUES: usize = 1_000_000;
        let features = self.cpu.features();
        let n = rows.len() / features;
        let slice_rows = (SLICE_VALUES / features).max(1);
        let mut scores = vec![0f32; n];
        let mut slice_start = now_ms();
        for start in (0..n).step_by(slice_rows) {
            let end = (start + slice_rows).min(n);
            self.cpu.score(&rows[start * features..end * features], &mut scores[start..end]);
            if now_ms() - slice_start > CHUNK_MILLISECONDS && end < n {
                yield_to_event_loop().await;
                slice_start = now_ms();
            }
        }
        scores
    }
}

impl ModelScorer {
    /// As [`Self::new`], but on the backend given rather than the visitor's choice (for `make bench`).
    pub async fn on(choice: BackendChoice, model: &ScoringModel) -> Self {
        let gpu = match choice {
            BackendChoice::Cpu => None,
            _ => opened_gpu().await.filter(|gpu| uses(gpu, choice)),
        };
        // Every method so far has GPU kernels; one without scores on the CPU (`backend()` says so).
        let gpu = gpu.and_then(|gpu| gpu.prepare(model).map(|prepared| (gpu, prepared)));
        Self { cpu: CpuScorer::for_model(model), gpu }
    }
}

/// Times scoring all digits with an untrained digit VAE (784-256-16) on one backend, after a small
/// warm-up batch that compiles the kernels; the weights go back so that TensorFlow.js can run the same
/// model (`make bench`).
pub async fn benchmark_digits(digits: &DigitSet, choice: BackendChoice) -> Event {
    let rows: Vec<usize> = (0..digits.len()).collect();
    let pixels = digits.gather_f32(&rows);
    let settings = ModelSettings::default();
    let data = TrainData { features: IMAGE_PIXELS, likelihood: Likelihood::Bernoulli, train: pixels[..64 * IMAGE_PIXELS].to_vec(), validation: vec![] };
    let weights = match Trainer::new(&settings, data).and_then(|t| Ok(t.model().weights()?)) {
        Ok(weights) => weights,
        Err(err) => return Event::failed(format!("The benchmark could not start: {err}.")),
    };
    let model = ScoringModel::Vae { weights: weights.clone(), likelihood: Likelihood::Bernoulli, with_kl: false };
    let mut scorer = ModelScorer::on(choice, &model).await;
    let _ = scorer.score(&pixels[..256 * IMAGE_PIXELS]).await;
    let started = now_ms();
    let scores = scorer.score(&pixels).await;
    let milliseconds = now_ms() - started;
    if scores.len() != digits.len() || !scores.iter().all(|s| s.is_finite()) {
        return Event::failed("The benchmark's scores were not all finite numbers.");
    }
    Event::DigitScoringBenchmark { rows: digits.len(), milliseconds, backend: scorer.backend(), weights }
}
