//! The same forward (same weights, inputs, lengths and initial states) on flex, ndarray and
//! wgpu agrees to 1e-4, for every layer kind, both directions and variable lengths.
//!
//! wgpu is skipped with a message when no adapter exists, unless `SEQMODEL_REQUIRE_WGPU=1`.

mod common;

use burn::tensor::Device;
use common::{ALL_KINDS, AnyLayer, Spec, lengths, max_abs_diff, tensor3, to_vec, values};
use seqmodel_device::test_support::test_devices;

const TOLERANCE: f32 = 1e-4;

#[test]
fn forward_agrees_across_devices() {
    let devices = test_devices("forward_agrees_across_devices");
    assert!(
        devices.len() >= 2,
        "need at least flex and ndarray, got {}",
        devices.len()
    );
    let reference_device = Device::flex();
    let (batch, time) = (3, 5);
    let lens = [5i64, 2, 4];
    let mut compared = 0;
    for kind in ALL_KINDS {
        let spec = Spec {
            kind,
            input: 3,
            hidden: 4,
            layers: 2,
            bidirectional: true,
        };
        let reference = AnyLayer::build(spec, &reference_device);
        let dict = reference.state_dict();
        let n = spec.layers * spec.directions();
        let x = values(11, batch * time * spec.input, 1.0);
        let h0 = values(12, n * batch * spec.hidden_out(), 0.5);
        let c0 = values(13, n * batch * spec.hidden, 0.5);
        let mut results = Vec::new();
        for (name, device) in &devices {
            let layer = AnyLayer::from_state_dict(spec, &dict, device);
            let out = layer.forward(
                tensor3(x.clone(), [batch, time, spec.input], device),
                Some(&lengths(&lens)),
                Some(tensor3(h0.clone(), [n, batch, spec.hidden_out()], device)),
                spec.has_cell()
                    .then(|| tensor3(c0.clone(), [n, batch, spec.hidden], device)),
            );
            let mut values = to_vec(out.output);
            values.extend(to_vec(out.h_n));
            if let Some(c) = out.c_n {
                values.extend(to_vec(c));
            }
            results.push((name.as_str(), values));
        }
        let (first_name, first) = &results[0];
        for (name, other) in &results[1..] {
            let diff = max_abs_diff(first, other);
            assert!(
                diff <= TOLERANCE,
                "{kind:?}: {first_name} and {name} differ by {diff:e}"
            );
            compared += 1;
        }
    }
    println!(
        "compared {compared} device pairs on {:?}",
        devices.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
}
