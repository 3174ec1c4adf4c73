//! # anomaly-gpu
//!
//! Scores rows with a trained VAE on the GPU: WebGPU in the browser, Vulkan natively (so that the same
//! WGSL runs in native tests on the software driver lavapipe). The weights are uploaded once; rows stream
//! through in batches that respect the adapter's buffer limits; only the scores are read back.
//!
//! The scores equal the engine's CPU scores ([`anomaly_engine::score::score_rows`]) to within float
//! rounding: the kernels compute the same formulas, in a different summation order.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use anomaly_engine::models::{DenseWeights, Likelihood, ScoringModel, VaeWeights};
use bytemuck::{Pod, Zeroable};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum GpuError {
    #[error("this browser or machine offers no WebGPU adapter ({0})")]
    NoAdapter(String),
    #[error("the GPU refused to give a device ({0})")]
    NoDevice(String),
    #[error("reading the scores back from the GPU failed ({0})")]
    Readback(String),
    #[error("the GPU was lost while scoring ({0})")]
    Lost(String),
    #[error("the GPU reported an error ({0})")]
    Device(String),
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct DenseDims {
    rows: u32,
    inputs: u32,
    in_stride: u32,
    out_vecs: u32,
    activation: u32,
    _pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ScoreDims {
    rows: u32,
    features: u32,
    out_stride: u32,
    latent: u32,
    latent_stride: u32,
    with_kl: u32,
    gaussian: u32,
    _pad: u32,
}

/// A dense layer on the GPU: the weight transposed to inputs × outputs and the outputs padded with
/// zeros to whole vec4s, as `dense.wgsl` reads them.
struct Layer {
    inputs: usize,
    outputs: usize,
    weight: wgpu::Buffer,
    bias: wgpu::Buffer,
}

impl Layer {
    /// Floats per row of this layer's output: the outputs rounded up to a whole number of vec4s.
    fn stride(&self) -> usize {
        self.outputs.div_ceil(4) * 4
    }
}

/// A GPU device with the kernels compiled: made once, then used for every model scored.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    dense: wgpu::ComputePipeline,
    score: wgpu::ComputePipeline,
    adapter: String,
    /// A software adapter (lavapipe, SwiftShader) runs the kernels on the CPU's cores.
    software: bool,
    max_binding_bytes: u64,
    /// The first error the device reported on its own (validation, out of memory, lost): WebGPU reports
    /// these asynchronously, so each scoring call checks here after its results come back.
    fault: Arc<Mutex<Option<String>>>,
}

/// A VAE's weights resident on the GPU, ready to score rows.
pub struct GpuVae {
    layers: [Layer; 5],
    likelihood: Likelihood,
}

/// A model resident on the GPU, with what its score adds up: what [`Gpu::prepare`] makes of a
/// [`ScoringModel`] that has kernels here.
pub struct GpuModel {
    vae: GpuVae,
    with_kl: bool,
}

/// Invocations per workgroup in both kernels (`@workgroup_size(64)`).
const WORKGROUP: u32 = 64;
/// Rows per workgroup of `dense.wgsl`: 64 invocations of 4 rows each.
const ROWS_PER_DENSE_GROUP: u64 = 4 * WORKGROUP as u64;
const MAX_GROUPS_PER_DIMENSION: u32 = 65_535;

fn backends() -> wgpu::Backends {
    if cfg!(target_arch = "wasm32") { wgpu::Backends::BROWSER_WEBGPU } else { wgpu::Backends::VULKAN }
}

impl Gpu {
    /// Finds an adapter, asks for a device and compiles the kernels.
    pub async fn new() -> Result<Self, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor { backends: backends(), ..wgpu::InstanceDescriptor::new_without_display_handle() });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("anomaly-playground scoring"),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoDevice(e.to_string()))?;
        let fault: Arc<Mutex<Option<String>>> = Arc::default();
        let record = |fault: &Arc<Mutex<Option<String>>>, message: String| {
            if let Ok(mut slot) = fault.lock() {
                slot.get_or_insert(message);
            }
        };
        let on_error = fault.clone();
        // Without a handler wgpu panics on an uncaptured error, which would take the worker down.
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| record(&on_error, error.to_string())));
        let on_lost = fault.clone();
        device.set_device_lost_callback(move |reason, message| record(&on_lost, format!("device lost ({reason:?}): {message}")));
        let pipeline = |source: &str, label: &str| {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(source)),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let dense = pipeline(include_str!("dense.wgsl"), "dense");
        let score = pipeline(include_str!("score.wgsl"), "score");
        Ok(Self {
            adapter: format!("{} ({:?}, {})", info.name, info.backend, info.driver),
            software: info.device_type == wgpu::DeviceType::Cpu,
            max_binding_bytes: (limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size),
            device,
            queue,
            dense,
            score,
            fault,
        })
    }

    /// The adapter's name, backend and driver, for the page to show.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// A better description than wgpu's of the adapter (in the browser, wgpu leaves it empty).
    pub fn describe_adapter(&mut self, name: String, software: bool) {
        self.adapter = name;
        self.software = software;
    }

    /// Whether the adapter is a software one, emulating a GPU on the CPU's cores.
    pub fn is_software(&self) -> bool {
        self.software
    }

    /// Uploads a model's weights once; score with them through [`Self::score`].
    pub fn upload(&self, weights: &VaeWeights, likelihood: Likelihood) -> GpuVae {
        let upload = |layer: &DenseWeights| {
            let (weight, bias) = layer.transposed_padded(layer.outputs.div_ceil(4) * 4);
            Layer {
                inputs: layer.inputs,
                outputs: layer.outputs,
                weight: self.filled("weight", bytemuck::cast_slice(&weight), wgpu::BufferUsages::STORAGE),
                bias: self.filled("bias", bytemuck::cast_slice(&bias), wgpu::BufferUsages::STORAGE),
            }
        };
        let layers = [
            upload(&weights.encoder_hidden),
            upload(&weights.encoder_mean),
            upload(&weights.encoder_log_variance),
            upload(&weights.decoder_hidden),
            upload(&weights.decoder_output),
        ];
        GpuVae { layers, likelihood }
    }

    /// Uploads `model` if this crate has kernels for its method; `None` means it scores on the CPU.
    pub fn prepare(&self, model: &ScoringModel) -> Option<GpuModel> {
        match model {
            ScoringModel::Vae { weights, likelihood, with_kl } => Some(GpuModel { vae: self.upload(weights, *likelihood), with_kl: *with_kl }),
        }
    }

    /// Scores row-major `rows` with a prepared model; the same numbers as the engine's CPU scores.
    pub async fn score_model(&self, model: &GpuModel, rows: &[f32]) -> Result<Vec<f32>, GpuError> {
        self.score(&model.vae, rows, model.with_kl).await
    }

    /// How many rows of this model fit in one batch: the widest activation must fit in one storage
    /// binding, and the score kernel's rows in two dispatch dimensions.
    pub fn batch_rows(&self, model: &GpuVae) -> usize {
        let widest = model.layers.iter().map(|l| l.inputs.max(l.stride())).max().unwrap_or(1) as u64;
        let by_binding = self.max_binding_bytes / (4 * widest);
        by_binding.clamp(1, u64::from(MAX_GROUPS_PER_DIMENSION) * ROWS_PER_DENSE_GROUP) as usize
    }

    /// Scores row-major `rows` (`inputs` values each); the same numbers as the engine's CPU scores.
    pub async fn score(&self, model: &GpuVae, rows: &[f32], with_kl: bool) -> Result<Vec<f32>, GpuError> {
        self.score_in_batches(model, rows, with_kl, self.batch_rows(model)).await
    }

    /// As [`Self::score`], with an explicit batch size (tests use it to cross batch boundaries).
    pub async fn score_in_batches(&self, model: &GpuVae, rows: &[f32], with_kl: bool, batch_rows: usize) -> Result<Vec<f32>, GpuError> {
        let features = model.layers[0].inputs;
        let n = rows.len() / features;
        let mut scores = Vec::with_capacity(n);
        for start in (0..n).step_by(batch_rows.max(1)) {
            let end = (start + batch_rows.max(1)).min(n);
            scores.extend(self.score_batch(model, &rows[start * features..end * features], end - start, with_kl).await?);
        }
        Ok(scores)
    }

    /// The first error the device reported since it was made, if any. After one, use the CPU.
    pub fn fault(&self) -> Option<String> {
        self.fault.lock().ok().and_then(|slot| slot.clone())
    }

    /// Destroys the device, as a driver reset would; later calls fail (tests of the fallback use it).
    pub fn lose_device(&self) {
        self.device.destroy();
    }

    fn storage(&self, label: &str, floats: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (4 * floats.max(1)) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    fn uniform<T: Pod>(&self, value: &T) -> wgpu::Buffer {
        self.filled("dims", bytemuck::bytes_of(value), wgpu::BufferUsages::UNIFORM)
    }

    /// A buffer holding `contents`. Written through the queue rather than mapped at creation: on a lost
    /// device the mapping panics, while a queued write only reports an error to [`Self::fault`].
    fn filled(&self, label: &str, contents: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        let size = (contents.len() as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT).max(wgpu::COPY_BUFFER_ALIGNMENT);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.queue.write_buffer(&buffer, 0, contents);
        buffer
    }

    fn bind(&self, pipeline: &wgpu::ComputePipeline, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, buffer)| wgpu::BindGroupEntry { binding: i as u32, resource: buffer.as_entire_binding() })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries })
    }

    async fn score_batch(&self, model: &GpuVae, x: &[f32], rows: usize, with_kl: bool) -> Result<Vec<f32>, GpuError> {
        if let Some(fault) = self.fault() {
            return Err(GpuError::Device(fault));
        }
        let [enc_hidden, enc_mean, enc_log_var, dec_hidden, dec_out] = &model.layers;
        let input = self.filled("rows", bytemuck::cast_slice(x), wgpu::BufferUsages::STORAGE);
        let hidden = self.storage("hidden", rows * enc_hidden.stride());
        let mean = self.storage("mean", rows * enc_mean.stride());
        let log_var = self.storage("log variance", rows * enc_log_var.stride());
        let decoded = self.storage("decoder hidden", rows * dec_hidden.stride());
        let logits = self.storage("logits", rows * dec_out.stride());
        let scores = self.storage("scores", rows);
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: (4 * rows) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("score") });
        // Scoring uses z = μ, like the CPU path, so the decoder reads the mean directly.
        // (layer, its input, the input's floats per row, its output, ReLU?). The log variance is only
        // needed for the KL term.
        let mut passes: Vec<(&Layer, &wgpu::Buffer, usize, &wgpu::Buffer, u32)> = vec![(enc_hidden, &input, enc_hidden.inputs, &hidden, 1)];
        passes.push((enc_mean, &hidden, enc_hidden.stride(), &mean, 0));
        if with_kl {
            passes.push((enc_log_var, &hidden, enc_hidden.stride(), &log_var, 0));
        }
        passes.push((dec_hidden, &mean, enc_mean.stride(), &decoded, 1));
        passes.push((dec_out, &decoded, dec_hidden.stride(), &logits, 0));
        let row_groups = (rows as u64).div_ceil(ROWS_PER_DENSE_GROUP) as u32;
        let dense_groups: Vec<(wgpu::BindGroup, u32)> = passes
            .iter()
            .map(|(layer, from, in_stride, to, activation)| {
                let dims = self.uniform(&DenseDims {
                    rows: rows as u32,
                    inputs: layer.inputs as u32,
                    in_stride: *in_stride as u32,
                    out_vecs: (layer.stride() / 4) as u32,
                    activation: *activation,
                    _pad: [0; 3],
                });
                let group = self.bind(&self.dense, &[&dims, from, &layer.weight, &layer.bias, to]);
                (group, (layer.stride() / 4) as u32)
            })
            .collect();
        let score_dims = self.uniform(&ScoreDims {
            rows: rows as u32,
            features: dec_out.outputs as u32,
            out_stride: dec_out.stride() as u32,
            latent: enc_mean.outputs as u32,
            latent_stride: enc_mean.stride() as u32,
            with_kl: with_kl as u32,
            gaussian: (model.likelihood == Likelihood::Gaussian) as u32,
            _pad: 0,
        });
        let score_group = self.bind(&self.score, &[&score_dims, &input, &logits, &mean, &log_var, &scores]);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("vae"), timestamp_writes: None });
            pass.set_pipeline(&self.dense);
            for (group, output_vecs) in &dense_groups {
                pass.set_bind_group(0, group, &[]);
                pass.dispatch_workgroups(row_groups, *output_vecs, 1);
            }
            pass.set_pipeline(&self.score);
            pass.set_bind_group(0, &score_group, &[]);
            let groups = (rows as u32).div_ceil(WORKGROUP);
            pass.dispatch_workgroups(groups.min(MAX_GROUPS_PER_DIMENSION), groups.div_ceil(MAX_GROUPS_PER_DIMENSION), 1);
        }
        encoder.copy_buffer_to_buffer(&scores, 0, &readback, 0, (4 * rows) as u64);
        self.queue.submit([encoder.finish()]);

        let (sender, receiver) = futures_channel::oneshot::channel();
        readback.slice(..).map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        // Natively this waits for the GPU; in the browser the callback fires later and is awaited below.
        let wait = if cfg!(target_arch = "wasm32") { wgpu::PollType::Poll } else { wgpu::PollType::wait_indefinitely() };
        self.device.poll(wait).map_err(|e| GpuError::Lost(e.to_string()))?;
        let mapped = receiver.await.map_err(|_| GpuError::Lost("the device went away before the scores were read".into()))?;
        if let Some(fault) = self.fault() {
            return Err(GpuError::Device(fault));
        }
        mapped.map_err(|e| GpuError::Readback(e.to_string()))?;
        let values = {
            let view = readback.slice(..).get_mapped_range().map_err(|e| GpuError::Readback(e.to_string()))?;
            bytemuck::cast_slice::<u8, f32>(&view).to_vec()
        };
        readback.unmap();
        Ok(values)
    }
}
