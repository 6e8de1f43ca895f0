//! The same small computation (Linear + tanh over a [4, 7, 5] input) on every compiled-in backend
//! agrees with flex to 1e-5, and the wgpu error paths are one line and never panic.

use burn::module::Module;
use burn::nn::LinearConfig;
use burn::tensor::{Device, Tensor, TensorData};
use seqmodel_train::device::{BackendName, DeviceError, test_devices};

/// Deterministic, backend-independent input values in [-1, 1].
fn input_values() -> Vec<f32> {
    (0..4 * 7 * 5)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect()
}

/// Linear(5 -> 3) with weights copied from flex, then tanh, on `device`.
fn linear_tanh(device: &Device, record_source: &burn::nn::Linear) -> Vec<f32> {
    let linear = record_source.clone().to_device(device);
    let x = Tensor::<3>::from_data(TensorData::new(input_values(), [4, 7, 5]), device);
    let y = linear.forward(x).tanh();
    assert_eq!(y.dims(), [4, 7, 3]);
    y.into_data().try_to_vec::<f32>().expect("float output")
}

#[test]
fn linear_tanh_agrees_across_backends() {
    let flex = BackendName::Flex.device().expect("flex is compiled in");
    let linear = LinearConfig::new(5, 3).init(&flex);
    let reference = linear_tanh(&flex, &linear);
    let devices = test_devices("linear_tanh_agrees_across_backends");
    assert!(devices.len() >= 2, "at least flex and ndarray must run");
    for (backend, device) in devices {
        let got = linear_tanh(&device, &linear);
        let max_diff = reference
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        println!("{backend}: max |diff| vs flex = {max_diff:e}");
        assert!(
            max_diff <= 1e-5,
            "{backend} differs from flex by {max_diff}"
        );
    }
}

#[test]
fn unknown_backend_is_an_error_not_a_panic() {
    let err = "cuda".parse::<BackendName>().unwrap_err();
    assert_eq!(err, DeviceError::Unknown("cuda".into()));
}

/// Runs in a child process whose Vulkan loader sees no driver at all: asking for wgpu must give
/// the one-line "no adapter" error that names `mesa-vulkan-drivers`, not a panic.
#[test]
fn wgpu_without_adapter_is_a_one_line_error() {
    const CHILD: &str = "SEQMODEL_TEST_NO_ADAPTER_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let err = BackendName::Wgpu
            .device()
            .expect_err("no Vulkan driver is visible to this process");
        println!("CHILD-ERROR: {err}");
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let empty = std::env::temp_dir().join("seqmodel-no-vulkan-icd");
    std::fs::create_dir_all(&empty).expect("temp dir");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "wgpu_without_adapter_is_a_one_line_error",
            "--nocapture",
        ])
        .env(CHILD, "1")
        // Hide every Vulkan/GL driver from the loaders.
        .env("VK_DRIVER_FILES", empty.join("none.json"))
        .env("VK_ICD_FILENAMES", empty.join("none.json"))
        .env("VK_ADD_DRIVER_FILES", "")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", empty.join("none.json"))
        .env("__EGL_VENDOR_LIBRARY_DIRS", &empty)
        .env_remove("SEQMODEL_REQUIRE_WGPU")
        .output()
        .expect("spawn child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CHILD-ERROR: "))
        .unwrap_or_else(|| panic!("child printed no error line: {stdout}"));
    if cfg!(feature = "wgpu") {
        assert!(line.contains("wgpu found no GPU adapter"), "{line}");
        assert!(
            line.contains("apt-get install mesa-vulkan-drivers"),
            "{line}"
        );
    } else {
        assert!(line.contains("Cargo feature `wgpu`"), "{line}");
    }
}
