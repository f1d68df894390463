//! Helpers shared by the frontend tests: deterministic random weights written to a temporary
//! safetensors file, synthetic model descriptions, and an independent naive interpreter of
//! model descriptions (plain loops, f64, BatchNorm applied explicitly) to check the frontend
//! and the reference executor against.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use fhec_compiler::model::{Activation, ModelDescription, Op};
use fhec_compiler::weights::{WeightTensor, write_safetensors};

/// A small deterministic generator (64-bit LCG), so tests need no RNG crate.
pub struct Lcg(pub u64);

impl Lcg {
    /// Uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// `count` values; positive ones (in [0.5, 1.5)) when `positive`.
    pub fn values(&mut self, count: usize, positive: bool) -> Vec<f32> {
        (0..count)
            .map(|_| {
                let v = self.next_f32();
                if positive { 1.0 + 0.5 * v } else { v }
            })
            .collect()
    }
}

/// Random tensors of the given names and shapes (variances and scales kept positive).
pub fn random_tensors(seed: u64, specs: &[(String, Vec<usize>)]) -> Vec<(String, WeightTensor)> {
    let mut rng = Lcg(seed);
    specs
        .iter()
        .map(|(name, shape)| {
            let positive = name.ends_with("running_var");
            let data = rng.values(shape.iter().product(), positive);
            (
                name.clone(),
                WeightTensor {
                    shape: shape.clone(),
                    data,
                },
            )
        })
        .collect()
}

/// Writes `tensors` to `dir/name` and returns the path.
pub fn write_weights(dir: &Path, name: &str, tensors: &[(String, WeightTensor)]) -> PathBuf {
    let path = dir.join(name);
    write_safetensors(&path, tensors).expect("write test weights");
    path
}

/// A CIFAR-style ResNet of depth `6n + 2` with explicit BatchNorm (the PyTorch naming of the
/// shipped ResNet-20), channels `base, 2·base, 4·base`, input `[3, size, size]`, 10 classes.
/// Returns the RON text and the tensor specs it needs.
pub fn cifar_resnet(n: usize, base: usize, size: usize) -> (String, Vec<(String, Vec<usize>)>) {
    let mut nodes = Vec::new();
    let mut specs: Vec<(String, Vec<usize>)> = Vec::new();
    let conv_bn = |nodes: &mut Vec<String>,
                   specs: &mut Vec<(String, Vec<usize>)>,
                   conv: &str,
                   bn: &str,
                   input: &str,
                   (cin, cout, k, stride): (usize, usize, usize, usize)|
     -> String {
        specs.push((format!("{conv}.weight"), vec![cout, cin, k, k]));
        nodes.push(format!(
            r#"Node(name: "{conv}", op: Conv2d(weight: "{conv}.weight", stride: {stride}, padding: {}), inputs: ["{input}"]),"#,
            k / 2
        ));
        for part in ["weight", "bias", "running_mean", "running_var"] {
            specs.push((format!("{bn}.{part}"), vec![cout]));
        }
        nodes.push(format!(
            r#"Node(name: "{bn}", op: BatchNorm(scale: "{bn}.weight", bias: "{bn}.bias", mean: "{bn}.running_mean", var: "{bn}.running_var"), inputs: ["{conv}"]),"#
        ));
        bn.to_owned()
    };
    let first = conv_bn(
        &mut nodes,
        &mut specs,
        "conv1",
        "bn1",
        "image",
        (3, base, 3, 1),
    );
    nodes.push(format!(
        r#"Node(name: "relu", op: Activation(Relu), inputs: ["{first}"]),"#
    ));
    let mut current = "relu".to_owned();
    let mut channels = base;
    for stage in 1..=3 {
        let width = base << (stage - 1);
        for block in 0..n {
            let p = format!("layer{stage}.{block}");
            let stride = if stage > 1 && block == 0 { 2 } else { 1 };
            let h = conv_bn(
                &mut nodes,
                &mut specs,
                &format!("{p}.conv1"),
                &format!("{p}.bn1"),
                &current,
                (channels, width, 3, stride),
            );
            nodes.push(format!(
                r#"Node(name: "{p}.relu1", op: Activation(Relu), inputs: ["{h}"]),"#
            ));
            let h = conv_bn(
                &mut nodes,
                &mut specs,
                &format!("{p}.conv2"),
                &format!("{p}.bn2"),
                &format!("{p}.relu1"),
                (width, width, 3, 1),
            );
            let shortcut = if stride == 2 {
                conv_bn(
                    &mut nodes,
                    &mut specs,
                    &format!("{p}.downsample.0"),
                    &format!("{p}.downsample.1"),
                    &current,
                    (channels, width, 1, 2),
                )
            } else {
                current.clone()
            };
            nodes.push(format!(
                r#"Node(name: "{p}.add", op: Add, inputs: ["{h}", "{shortcut}"]),"#
            ));
            nodes.push(format!(
                r#"Node(name: "{p}.relu2", op: Activation(Relu), inputs: ["{p}.add"]),"#
            ));
            current = format!("{p}.relu2");
            channels = width;
        }
    }
    nodes.push(format!(
        r#"Node(name: "pool", op: GlobalAvgPool, inputs: ["{current}"]),"#
    ));
    nodes.push(r#"Node(name: "flat", op: Flatten, inputs: ["pool"]),"#.to_owned());
    nodes.push(r#"Node(name: "fc", op: Gemm(weight: "fc.weight", bias: "fc.bias", trans_b: true), inputs: ["flat"]),"#.to_owned());
    specs.push(("fc.weight".into(), vec![10, channels]));
    specs.push(("fc.bias".into(), vec![10]));
    let ron = format!(
        r#"Model(
    name: "resnet{depth}",
    weights: ModelDir("weights.safetensors"),
    inputs: [Input(name: "image", shape: [3, {size}, {size}],
        preprocess: Preprocess(pixel_max: 255.0, mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.3]))],
    nodes: [
        {nodes}
    ],
    output: "fc",
)"#,
        depth = 6 * n + 2,
        nodes = nodes.join("\n        ")
    );
    (ron, specs)
}

/// A tensor of the naive interpreter: shape and f64 values.
#[derive(Clone, Debug)]
pub struct Naive {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

fn at3(t: &Naive, c: usize, y: usize, x: usize) -> f64 {
    t.data[(c * t.shape[1] + y) * t.shape[2] + x]
}

/// Evaluates a description directly: naive loops in f64, BatchNorm unfused, no frontend code.
pub fn naive_forward(
    desc: &ModelDescription,
    weights: &HashMap<String, WeightTensor>,
    raw_input: &[f32],
) -> Vec<f64> {
    let w = |name: &str| -> Vec<f64> { weights[name].data.iter().map(|&v| f64::from(v)).collect() };
    let input = &desc.inputs[0];
    let mut data: Vec<f64> = raw_input.iter().map(|&v| f64::from(v)).collect();
    if let Some(pre) = &input.preprocess {
        let plane: usize = input.shape[1..].iter().product();
        let pick = |v: &[f32], c: usize| f64::from(if v.len() == 1 { v[0] } else { v[c] });
        for (i, v) in data.iter_mut().enumerate() {
            let c = i / plane;
            *v = (*v / f64::from(pre.pixel_max) - pick(&pre.mean, c)) / pick(&pre.std, c);
        }
    }
    let mut values: HashMap<String, Naive> = HashMap::new();
    values.insert(
        input.name.clone(),
        Naive {
            shape: input.shape.clone(),
            data,
        },
    );
    let mut remaining: Vec<_> = desc.nodes.iter().collect();
    while !remaining.is_empty() {
        let before = remaining.len();
        remaining.retain(|node| {
            if !node.inputs.iter().all(|i| values.contains_key(i)) {
                return true;
            }
            let x = &values[&node.inputs[0]];
            let out = match &node.op {
                Op::Conv2d {
                    weight,
                    bias,
                    stride,
                    padding,
                    groups,
                } => {
                    let ws = &weights[weight].shape;
                    let (o, gi, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
                    let wv = w(weight);
                    let (h, wd) = (x.shape[1] as isize, x.shape[2] as isize);
                    let ho = (x.shape[1] + 2 * padding - kh) / stride + 1;
                    let wo = (x.shape[2] + 2 * padding - kw) / stride + 1;
                    let go = o / groups;
                    let mut out = vec![0.0; o * ho * wo];
                    for oc in 0..o {
                        let g = oc / go;
                        for oy in 0..ho {
                            for ox in 0..wo {
                                let mut sum = bias.as_ref().map_or(0.0, |b| w(b)[oc]);
                                for ic in 0..gi {
                                    for ky in 0..kh {
                                        for kx in 0..kw {
                                            let iy =
                                                (oy * stride + ky) as isize - *padding as isize;
                                            let ix =
                                                (ox * stride + kx) as isize - *padding as isize;
                                            if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                                                sum += wv[((oc * gi + ic) * kh + ky) * kw + kx]
                                                    * at3(x, g * gi + ic, iy as usize, ix as usize);
                                            }
                                        }
                                    }
                                }
                                out[(oc * ho + oy) * wo + ox] = sum;
                            }
                        }
                    }
                    Naive {
                        shape: vec![o, ho, wo],
                        data: out,
                    }
                }
                Op::BatchNorm {
                    scale,
                    bias,
                    mean,
                    var,
                    eps,
                } => {
                    let plane: usize = x.shape[1..].iter().product();
                    let (g, b, m, v) = (w(scale), w(bias), w(mean), w(var));
                    let data = x
                        .data
                        .iter()
                        .enumerate()
                        .map(|(i, &val)| {
                            let c = i / plane;
                            (val - m[c]) * g[c] / (v[c] + f64::from(*eps)).sqrt() + b[c]
                        })
                        .collect();
                    Naive {
                        shape: x.shape.clone(),
                        data,
                    }
                }
                Op::Activation(Activation::Relu) => Naive {
                    shape: x.shape.clone(),
                    data: x.data.iter().map(|v| v.max(0.0)).collect(),
                },
                Op::Add => {
                    let y = &values[&node.inputs[1]];
                    Naive {
                        shape: x.shape.clone(),
                        data: x.data.iter().zip(&y.data).map(|(a, b)| a + b).collect(),
                    }
                }
                Op::AvgPool { kernel, stride } => {
                    let ho = (x.shape[1] - kernel) / stride + 1;
                    let wo = (x.shape[2] - kernel) / stride + 1;
                    let mut data = Vec::new();
                    for c in 0..x.shape[0] {
                        for oy in 0..ho {
                            for ox in 0..wo {
                                let mut sum = 0.0;
                                for ky in 0..*kernel {
                                    for kx in 0..*kernel {
                                        sum += at3(x, c, oy * stride + ky, ox * stride + kx);
                                    }
                                }
                                data.push(sum / (kernel * kernel) as f64);
                            }
                        }
                    }
                    Naive {
                        shape: vec![x.shape[0], ho, wo],
                        data,
                    }
                }
                Op::GlobalAvgPool => {
                    let plane = x.shape[1] * x.shape[2];
                    let data = x
                        .data
                        .chunks(plane)
                        .map(|c| c.iter().sum::<f64>() / plane as f64)
                        .collect();
                    Naive {
                        shape: vec![x.shape[0], 1, 1],
                        data,
                    }
                }
                Op::Flatten => Naive {
                    shape: vec![x.data.len()],
                    data: x.data.clone(),
                },
                Op::Gemm {
                    weight,
                    bias,
                    trans_b,
                    alpha,
                    beta,
                } => {
                    let ws = &weights[weight].shape;
                    let wv = w(weight);
                    let (out, k) = if *trans_b {
                        (ws[0], ws[1])
                    } else {
                        (ws[1], ws[0])
                    };
                    let data = (0..out)
                        .map(|j| {
                            let dot: f64 = (0..k)
                                .map(|i| {
                                    let wij = if *trans_b {
                                        wv[j * k + i]
                                    } else {
                                        wv[i * out + j]
                                    };
                                    wij * x.data[i]
                                })
                                .sum();
                            f64::from(*alpha) * dot
                                + bias.as_ref().map_or(0.0, |b| f64::from(*beta) * w(b)[j])
                        })
                        .collect();
                    Naive {
                        shape: vec![out],
                        data,
                    }
                }
            };
            values.insert(node.name.clone(), out);
            false
        });
        assert!(
            remaining.len() < before,
            "naive interpreter: graph does not progress"
        );
    }
    values[&desc.output].data.clone()
}

/// Asserts `got` matches `want` within `tol` relative to the largest magnitude.
pub fn assert_close(got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "output length");
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(g) - w).abs() <= tol * scale,
            "output {i}: got {g}, naive reference {w} (tolerance {})",
            tol * scale
        );
    }
}

/// Tensors as a map, for the naive interpreter.
pub fn tensor_map(tensors: &[(String, WeightTensor)]) -> HashMap<String, WeightTensor> {
    tensors.iter().cloned().collect()
}

/// Pixel-like input values in [0, 255].
pub fn random_pixels(seed: u64, count: usize) -> Vec<f32> {
    let mut rng = Lcg(seed);
    (0..count)
        .map(|_| ((rng.next_f32() + 1.0) * 127.5).floor())
        .collect()
}
