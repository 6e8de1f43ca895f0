//! `cargo xtask check-layering`: fail when a crate depends on one it must not (the rules are in
//! [`xtask::layering`]).

use xtask::layering;

/// Arguments of `cargo xtask check-layering`.
#[derive(clap::Args)]
pub struct CheckLayeringArgs {}

/// Run the four layering rules on this workspace; print each violation on its own line.
pub fn run(_args: &CheckLayeringArgs) -> Result<(), String> {
    let root = crate::ci::workspace_root();
    let violations = layering::check_workspace(&root)?;
    if violations.is_empty() {
        println!(
            "layering ok: {} crates, each depending only on lower layers",
            layering::LAYERS.len()
        );
        return Ok(());
    }
    for violation in &violations {
        println!("{violation}");
    }
    Err(format!(
        "{} layering violation(s); the rules are in xtask/src/layering.rs",
        violations.len()
    ))
}
