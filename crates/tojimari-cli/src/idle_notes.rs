//! The idle-scan engine as a run uses it: built from the plan, with an observer that tells the user, as
//! `note:` lines, what nmap prints about its zombie ("Idle scan using zombie Z (Z:80); Class: Incremental",
//! once per run) and, with `-v`, what each target's scan measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tojimari_engine::Tracer;
use tojimari_engine::idle::{IdleEvent, IdleScan, Observer, Settings};

use crate::idle_plan::IdlePlan;
use crate::messages;
use crate::plan::ScanPlan;

/// The engine for `idle` over `plan`'s TCP ports.
pub fn engine(idle: &IdlePlan, plan: &ScanPlan, trace: Tracer) -> IdleScan {
    let verbose = plan.display.verbose;
    let told = Arc::new(AtomicBool::new(false));
    let observer: Observer = Arc::new(move |event: &IdleEvent| match event {
        IdleEvent::Qualified { zombie, probe_port, class, background } => {
            if !told.swap(true, Ordering::Relaxed) {
                messages::note(format!(
                    "Idle scan using zombie {zombie} ({zombie}:{probe_port}); Class: {}",
                    class.name()
                ));
            }
            if verbose > 0 {
                messages::note(format!("the zombie sends about {background:.1} packets per second of its own"));
            }
        }
        IdleEvent::Finished { target, outcome } if verbose > 0 => {
            messages::note(format!(
                "idle scan of {target}: {} measurements, {} zombie probes, zombie background {:.1}/s, {} SYNs per \
                 port, {:.1} ms wait, {} quiet groups measured again",
                outcome.measurements,
                outcome.probes,
                outcome.background,
                outcome.copies,
                outcome.wait.as_secs_f64() * 1000.0,
                outcome.retried
            ));
        }
        IdleEvent::Finished { .. } => {}
    });
    IdleScan {
        zombie: idle.zombie,
        probe_port: idle.probe_port,
        ports: plan.ports.tcp.as_slice().to_vec(),
        settings: Settings::default(),
        trace,
        observer: Some(observer),
    }
}
