//! Each incident rule on a running engine, with its condition induced for real (failing jobs,
//! a paused backlog, a dependency chain, slow and long jobs, a crashing worker, a nearly full
//! filesystem, jobs held for power) and only the clock moved by hand: the incident goes
//! pending, active after the rule's `for` (told once), and resolves once the condition has
//! been clear for `resolve_after`. The backlog's test also walks the rest of the lifecycle:
//! no flap at the line, reminders, snooze, acknowledge, reopening within the cooldown.
//! (The unclean restart's is in `recovery.rs`, beside the fixture that plays the killed
//! instance.)

#[path = "../support/mod.rs"]
mod support;

mod learned;
mod queues;
mod rig;
mod system;
