//! `cargo xtask devices`: which backends are compiled in, and whether each starts here.

use seqmodel_train::device::BackendName;

/// Arguments of `cargo xtask devices`.
#[derive(clap::Args)]
pub struct DevicesArgs {
    /// Probe only this backend (flex, ndarray or wgpu); exit non-zero if it does not start.
    #[arg(long)]
    pub backend: Option<BackendName>,
}

/// Probe each backend (or the one asked for) and print one line per backend.
pub fn run(args: &DevicesArgs) -> Result<(), String> {
    let backends = match &args.backend {
        Some(backend) => vec![*backend],
        None => BackendName::ALL.to_vec(),
    };
    let mut failures = Vec::new();
    for backend in backends {
        if !backend.is_compiled_in() {
            println!("{:<8} not compiled in", backend.as_str());
            continue;
        }
        match backend.probe() {
            Ok(info) => println!("{:<8} ok   {}", backend.as_str(), info.description),
            Err(err) => {
                println!("{:<8} FAIL {err}", backend.as_str());
                failures.push(err.to_string());
            }
        }
    }
    if args.backend.is_some() && !failures.is_empty() {
        return Err(failures.join("; "));
    }
    Ok(())
}
