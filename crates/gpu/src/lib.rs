//! # anomaly-gpu
//!
//! Scores rows with a trained VAE on the GPU: WebGPU in the browser, Vulkan natively (so that the same
//! WGSL runs in native tests on the software driver lavapipe). The weights are uploaded once; rows stream
//! through in batches that respect the adapter's buffer limits; only the scores are read back.
//!
//! The scores equal the engine's CPU scores ([`anomaly_engine::score::score_rows`]) to within float
//! rounding: the kernels compute the same formulas, in a different summation order.

use std::borrow::Cow;

use anomaly_engine::models::{DenseWeights, VaeWeights};
use bytemuck::{Pod, Zeroable};
use thiserror::Error;
use wgpu::util::DeviceExt;

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
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct DenseDims {
    rows: u32,
    inputs: u32,
    outputs: u32,
    activation: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ScoreDims {
    rows: u32,
    features: u32,
    latent: u32,
    with_kl: u32,
}

struct Layer {
    inputs: usize,
    outputs: usize,
    weight: wgpu::Buffer,
    bias: wgpu::Buffer,
}

/// A VAE resident on the GPU, ready to score rows.
pub struct GpuVae {
    device: wgpu::Device,
    queue: wgpu::Queue,
    dense: wgpu::ComputePipeline,
    score: wgpu::ComputePipeline,
    layers: [Layer; 5],
    adapter: String,
    max_binding_bytes: u64,
}

const DENSE_TILE: u32 = 16;
const MAX_GROUPS_PER_DIMENSION: u32 = 65_535;

fn backends() -> wgpu::Backends {
    if cfg!(target_arch = "wasm32") { wgpu::Backends::BROWSER_WEBGPU } else { wgpu::Backends::VULKAN }
}

impl GpuVae {
    /// Finds an adapter, compiles the kernels and uploads the weights.
    pub async fn new(weights: &VaeWeights) -> Result<Self, GpuError> {
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
        let upload = |layer: &DenseWeights| Layer {
            inputs: layer.inputs,
            outputs: layer.outputs,
            weight: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("weight"),
                contents: bytemuck::cast_slice(&layer.weight),
                usage: wgpu::BufferUsages::STORAGE,
            }),
            bias: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("bias"),
                contents: bytemuck::cast_slice(&layer.bias),
                usage: wgpu::BufferUsages::STORAGE,
            }),
        };
        let layers = [
            upload(&weights.encoder_hidden),
            upload(&weights.encoder_mean),
            upload(&weights.encoder_log_variance),
            upload(&weights.decoder_hidden),
            upload(&weights.decoder_output),
        ];
        Ok(Self {
            adapter: format!("{} ({:?}, {})", info.name, info.backend, info.driver),
            max_binding_bytes: (limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size),
            device,
            queue,
            dense,
            score,
            layers,
        })
    }

    /// The adapter's name, backend and driver, for the page to show.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// How many rows fit in one batch: the widest activation must fit in one storage binding.
    pub fn batch_rows(&self) -> usize {
        let widest = self.layers.iter().map(|l| l.inputs.max(l.outputs)).max().unwrap_or(1) as u64;
        let by_binding = self.max_binding_bytes / (4 * widest);
        by_binding.clamp(1, 65_535 * 64) as usize
    }

    /// Scores row-major `rows` (`inputs` values each); the same numbers as the engine's CPU scores.
    pub async fn score(&self, rows: &[f32], with_kl: bool) -> Result<Vec<f32>, GpuError> {
        self.score_in_batches(rows, with_kl, self.batch_rows()).await
    }

    /// As [`Self::score`], with an explicit batch size (tests use it to cross batch boundaries).
    pub async fn score_in_batches(&self, rows: &[f32], with_kl: bool, batch_rows: usize) -> Result<Vec<f32>, GpuError> {
        let features = self.layers[0].inputs;
        let n = rows.len() / features;
        let mut scores = Vec::with_capacity(n);
        for start in (0..n).step_by(batch_rows.max(1)) {
            let end = (start + batch_rows.max(1)).min(n);
            scores.extend(self.score_batch(&rows[start * features..end * features], end - start, with_kl).await?);
        }
        Ok(scores)
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
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dims"),
            contents: bytemuck::bytes_of(value),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    fn bind(&self, pipeline: &wgpu::ComputePipeline, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, buffer)| wgpu::BindGroupEntry { binding: i as u32, resource: buffer.as_entire_binding() })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries })
    }

    async fn score_batch(&self, x: &[f32], rows: usize, with_kl: bool) -> Result<Vec<f32>, GpuError> {
        let [enc_hidden, enc_mean, enc_log_var, dec_hidden, dec_out] = &self.layers;
        let input = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("rows"),
            contents: bytemuck::cast_slice(x),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let hidden = self.storage("hidden", rows * enc_hidden.outputs);
        let mean = self.storage("mean", rows * enc_mean.outputs);
        let log_var = self.storage("log variance", rows * enc_log_var.outputs);
        let decoded = self.storage("decoder hidden", rows * dec_hidden.outputs);
        let logits = self.storage("logits", rows * dec_out.outputs);
        let scores = self.storage("scores", rows);
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: (4 * rows) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("score") });
        // Scoring uses z = μ, like the CPU path, so the decoder reads the mean directly.
        let passes: [(&Layer, &wgpu::Buffer, &wgpu::Buffer, u32); 5] = [
            (enc_hidden, &input, &hidden, 1),
            (enc_mean, &hidden, &mean, 0),
            (enc_log_var, &hidden, &log_var, 0),
            (dec_hidden, &mean, &decoded, 1),
            (dec_out, &decoded, &logits, 0),
        ];
        let dense_groups: Vec<(wgpu::BindGroup, u32, u32)> = passes
            .iter()
            .map(|(layer, from, to, activation)| {
                let dims = self.uniform(&DenseDims { rows: rows as u32, inputs: layer.inputs as u32, outputs: layer.outputs as u32, activation: *activation });
                let group = self.bind(&self.dense, &[&dims, from, &layer.weight, &layer.bias, to]);
                (group, (layer.outputs as u32).div_ceil(DENSE_TILE), (rows as u32).div_ceil(DENSE_TILE))
            })
            .collect();
        let score_dims = self.uniform(&ScoreDims {
            rows: rows as u32,
            features: dec_out.outputs as u32,
            latent: enc_mean.outputs as u32,
            with_kl: with_kl as u32,
        });
        let score_group = self.bind(&self.score, &[&score_dims, &input, &logits, &mean, &log_var, &scores]);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("vae"), timestamp_writes: None });
            pass.set_pipeline(&self.dense);
            for (group, x_groups, y_groups) in &dense_groups {
                pass.set_bind_group(0, group, &[]);
                pass.dispatch_workgroups(*x_groups, *y_groups, 1);
            }
            pass.set_pipeline(&self.score);
            pass.set_bind_group(0, &score_group, &[]);
            let rows = rows as u32;
            pass.dispatch_workgroups(rows.min(MAX_GROUPS_PER_DIMENSION), rows.div_ceil(MAX_GROUPS_PER_DIMENSION), 1);
        }
        encoder.copy_buffer_to_buffer(&scores, 0, &readback, 0, (4 * rows) as u64);
        self.queue.submit([encoder.finish()]);

        let (sender, receiver) = futures_channel::oneshot::channel();
        readback.slice(..).map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        // Natively this waits for the GPU; in the browser it returns at once and the callback fires later.
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Lost(e.to_string()))?;
        receiver
            .await
            .map_err(|_| GpuError::Lost("the device went away before the scores were read".into()))?
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let values = {
            let view = readback.slice(..).get_mapped_range().map_err(|e| GpuError::Readback(e.to_string()))?;
            bytemuck::cast_slice::<u8, f32>(&view).to_vec()
        };
        readback.unmap();
        Ok(values)
    }
}
