//! `show` for a stream of any flow from its form (`Flow::sheet`): what a flow without a
//! renderer of its own prints (the 签报单, and any flow added after it), so that adding a
//! flow needs nothing here.

use anyhow::Result;
use workflow_core::FlowState;
use workflow_core::ids::china_time;

use super::{Names, local, pad};

/// `show` for `state`: its title, id, version and state, then its form's fields, its route,
/// its links and digests and every opinion on record; with `json`, its state as JSON.
pub(crate) fn sheet(state: &FlowState, names: &Names, json: bool) -> Result<()> {
    if json {
        println!("{}", String::from_utf8(state.to_json(true)?)?);
        return Ok(());
    }
    let p = state.particulars();
    println!("《{}》", state.title());
    println!("  id            {}", state.id());
    println!(
        "  version       {} (updated {})",
        state.version(),
        local(p.updated_at)
    );
    println!("  state         {} ({})", p.state, p.state_label);
    let sheet = state.sheet();
    println!("  ── {} ──", sheet.form);
    let line = |l: &workflow_core::sheet::Line| l.show(names);
    for f in &sheet.fields {
        println!("  {}  {}", pad(f.label), line(f));
    }
    for (i, stage) in sheet.route.iter().enumerate() {
        println!(
            "  {:<4} {}. {} {}{}",
            stage.progress.name().to_uppercase(),
            i + 1,
            stage.what.label,
            line(&stage.what),
            stage
                .due_at
                .map(|d| format!("  时限 {}", china_time(d)))
                .unwrap_or_default()
        );
    }
    for (what, id) in &sheet.links {
        println!("  {}  {id}", pad(what));
    }
    for (what, digest) in &sheet.digests {
        println!("  {}  {digest}", pad(what));
    }
    for o in sheet.opinions {
        println!(
            "  {}  {} {} {}",
            pad(&o.step),
            local(o.at),
            names.label(&o.actor),
            o.text
        );
    }
    Ok(())
}
