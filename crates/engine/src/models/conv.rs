//! 3 × 3 convolutions (stride 1, zero padding 1) on channels-last images, as "im2col" (each pixel's 3 × 3
//! neighbourhood copied into a row) and one matrix product, with 2 × 2 max pooling and nearest-neighbour
//! upsampling in the same layout.
//!
//! Why not candle's `conv2d`: its backward pass computes the input's gradient with `conv_transpose2d`,
//! whose CPU kernel is a plain loop; with candle's own gather (`index_select`) in its place the step was
//! still slow, spent in the gather, its scatter and their padding. Here the copy into rows and its
//! backward pass (adding the rows back into pixels) are two plain loops of our own ([`Im2col3x3`]), and
//! the arithmetic is candle's matrix product with its SIMD kernels. The parameters keep candle's shapes and
//! names (weight out × in × 3 × 3, bias out), so a model is the same either way.

use candle_core::{bail, CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use candle_nn::{conv2d, Conv2dConfig, VarBuilder};

/// A 3 × 3 convolution, padding 1, on (rows, height, width, channels) tensors.
#[derive(Clone)]
pub struct Conv3x3 {
    /// out × in × 3 × 3, as candle's `conv2d` holds it.
    weight: Tensor,
    bias: Tensor,
}

impl Conv3x3 {
    /// The same parameters, names and initialisation as `candle_nn::conv2d(in, out, 3, padding 1)`.
    pub fn new(in_channels: usize, out_channels: usize, vb: VarBuilder) -> Result<Self> {
        let conv = conv2d(in_channels, out_channels, 3, Conv2dConfig { padding: 1, ..Default::default() }, vb)?;
        let bias = conv.bias().cloned().ok_or_else(|| candle_core::Error::Msg("a convolution without a bias".into()))?;
        Ok(Self { weight: conv.weight().clone(), bias })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (rows, height, width, channels) = x.dims4()?;
        let out_channels = self.weight.dim(0)?;
        // Row p of `columns` holds pixel p's 3 × 3 neighbourhood, ordered (dy, dx, channel).
        let columns = x.contiguous()?.apply_op1(Im2col3x3)?;
        let kernel = self.weight.permute((2, 3, 1, 0))?.reshape((9 * channels, out_channels))?;
        columns.matmul(&kernel)?.broadcast_add(&self.bias)?.reshape((rows, height, width, out_channels))
    }
}

/// (rows, height, width, channels) → (rows·height·width, 9·channels): each pixel's 3 × 3 neighbourhood
/// (zeros beyond the edge), ordered (dy, dx, channel). Its backward pass is [`Col2im3x3`].
pub struct Im2col3x3;

/// The gradient of [`Im2col3x3`]: each row's nine pixels added back where they came from.
struct Col2im3x3 {
    rows: usize,
    height: usize,
    width: usize,
    channels: usize,
}

fn contiguous_f32<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else { bail!("3 × 3 convolutions run on f32 only") };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => bail!("3 × 3 convolutions need a contiguous input"),
    }
}

/// The (dy, dx) neighbours of pixel (y, x) that lie inside the image, as (slot 0–8, neighbour's pixel).
fn neighbours(y: usize, x: usize, height: usize, width: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..9).filter_map(move |slot| {
        let (yy, xx) = ((y + slot / 3).checked_sub(1)?, (x + slot % 3).checked_sub(1)?);
        (yy < height && xx < width).then_some((slot, yy * width + xx))
    })
}

impl CustomOp1 for Im2col3x3 {
    fn name(&self) -> &'static str {
        "im2col3x3"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (rows, height, width, channels) = layout.shape().dims4()?;
        let input = contiguous_f32(storage, layout)?;
        let (pixels, row_len) = (height * width, 9 * channels);
        let mut out = vec![0f32; rows * pixels * row_len];
        for (image, columns) in input.chunks_exact(pixels * channels).zip(out.chunks_exact_mut(pixels * row_len)) {
            for y in 0..height {
                for x in 0..width {
                    let row = &mut columns[(y * width + x) * row_len..][..row_len];
                    for (slot, pixel) in neighbours(y, x, height, width) {
                        row[slot * channels..][..channels].copy_from_slice(&image[pixel * channels..][..channels]);
                    }
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((rows * pixels, row_len))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let (rows, height, width, channels) = arg.dims4()?;
        Ok(Some(grad_res.contiguous()?.apply_op1_no_bwd(&Col2im3x3 { rows, height, width, channels })?))
    }
}

impl CustomOp1 for Col2im3x3 {
    fn name(&self) -> &'static str {
        "col2im3x3"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let Self { rows, height, width, channels } = *self;
        let columns = contiguous_f32(storage, layout)?;
        let (pixels, row_len) = (height * width, 9 * channels);
        if columns.len() != rows * pixels * row_len {
            bail!("col2im3x3: {} values for {rows} images of {height} × {width} × {channels}", columns.len());
        }
        let mut out = vec![0f32; rows * pixels * channels];
        for (image_columns, image) in columns.chunks_exact(pixels * row_len).zip(out.chunks_exact_mut(pixels * channels)) {
            for y in 0..height {
                for x in 0..width {
                    let row = &image_columns[(y * width + x) * row_len..][..row_len];
                    for (slot, pixel) in neighbours(y, x, height, width) {
                        let target = &mut image[pixel * channels..][..channels];
                        for (t, &g) in target.iter_mut().zip(&row[slot * channels..][..channels]) {
                            *t += g;
                        }
                    }
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, height, width, channels))))
    }
}

/// 2 × 2 max pooling of a (rows, height, width, channels) tensor with even sides.
pub fn max_pool2(x: &Tensor) -> Result<Tensor> {
    let (rows, height, width, channels) = x.dims4()?;
    x.reshape((rows, height / 2, 2, width / 2, 2, channels))?.max(4)?.max(2)
}

/// Each pixel of a (rows, height, width, channels) tensor repeated into a 2 × 2 block.
pub fn upsample2(x: &Tensor) -> Result<Tensor> {
    let (rows, height, width, channels) = x.dims4()?;
    x.reshape((rows, height, 1, width, 1, channels))?
        .broadcast_as((rows, height, 2, width, 2, channels))?
        .reshape((rows, 2 * height, 2 * width, channels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};
    use candle_nn::VarMap;

    fn random(shape: &[usize], seed: u64) -> Tensor {
        let mut rng = crate::rng::SeededRng::new(seed);
        let count = shape.iter().product();
        Tensor::from_vec((0..count).map(|_| rng.normal()).collect::<Vec<f32>>(), shape, &Device::Cpu).unwrap()
    }

    fn close(a: &Tensor, b: &Tensor) -> f32 {
        (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
    }

    #[test]
    fn the_gathered_convolution_equals_candles_with_the_same_weights_and_gradients() {
        let varmap = VarMap::new();
        let conv = Conv3x3::new(3, 5, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        let input = Var::from_tensor(&random(&[2, 6, 8, 3], 1)).unwrap();
        let ours = conv.forward(&input).unwrap();
        let nchw = input.permute((0, 3, 1, 2)).unwrap();
        let reference = nchw.conv2d(&conv.weight, 1, 1, 1, 1).unwrap().broadcast_add(&conv.bias.reshape((1, 5, 1, 1)).unwrap()).unwrap();
        let reference = reference.permute((0, 2, 3, 1)).unwrap();
        assert_eq!(ours.dims(), [2, 6, 8, 5]);
        assert!(close(&ours, &reference) < 1e-5);
        // Gradients with respect to the input and the weight agree too.
        let mix = random(&[2, 6, 8, 5], 2);
        let ours_grads = (ours * &mix).unwrap().sum_all().unwrap().backward().unwrap();
        let reference_grads = (reference * &mix).unwrap().sum_all().unwrap().backward().unwrap();
        for tensor in [input.as_tensor(), &conv.weight, &conv.bias] {
            let (a, b) = (ours_grads.get(tensor).unwrap(), reference_grads.get(tensor).unwrap());
            assert!(close(a, b) < 1e-4, "gradient differs by {}", close(a, b));
        }
    }

    #[test]
    fn pooling_keeps_each_blocks_largest_and_upsampling_repeats_each_pixel() {
        let x = Tensor::from_vec((0..16).map(|v| v as f32).collect::<Vec<_>>(), (1, 4, 4, 1), &Device::Cpu).unwrap();
        let pooled = max_pool2(&x).unwrap();
        assert_eq!(pooled.flatten_all().unwrap().to_vec1::<f32>().unwrap(), [5.0, 7.0, 13.0, 15.0]);
        let up = upsample2(&pooled).unwrap();
        assert_eq!(up.dims(), [1, 4, 4, 1]);
        assert_eq!(up.flatten_all().unwrap().to_vec1::<f32>().unwrap()[..8], [5.0, 5.0, 7.0, 7.0, 5.0, 5.0, 7.0, 7.0]);
        // Against candle's own NCHW ops, on several channels.
        let y = random(&[2, 6, 4, 3], 3);
        let nchw = y.permute((0, 3, 1, 2)).unwrap();
        assert!(close(&max_pool2(&y).unwrap(), &nchw.max_pool2d(2).unwrap().permute((0, 2, 3, 1)).unwrap()) == 0.0);
        assert!(close(&upsample2(&y).unwrap(), &nchw.upsample_nearest2d(12, 8).unwrap().permute((0, 2, 3, 1)).unwrap()) == 0.0);
    }
}
