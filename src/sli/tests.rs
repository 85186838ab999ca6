//! The SLIs and SLO verdicts on hand-written write sequences whose figures are computed
//! by hand in the comments.

use super::slo::{SloVerdict, evaluate};
use super::*;
use crate::api::{AnyObject, ObjectMeta, OwnerReference, Pod, StatefulSet, Timestamp};
use crate::apiserver::{Verb, WatchEvent};
use crate::scenario::{Fraction, SliKind, SloSpec, SloTarget};
use crate::time::{SimDuration, SimTime};
use std::rc::Rc;

const SEC: i128 = 1_000_000_000;

fn t(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn write(at: u64, verb: Verb, obj: AnyObject, removed: bool) -> JournalEntry {
    JournalEntry::Write(WatchEvent {
        at: t(at),
        verb,
        removed,
        obj,
        actor: Rc::from("test"),
        lease_renewal: None,
    })
}

fn set(replicas: i32) -> AnyObject {
    let mut s = StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    };
    s.spec.replicas = Some(replicas);
    AnyObject::StatefulSet(Rc::new(s))
}

fn pod(ordinal: i32, phase: &str, ready: bool, terminating: bool) -> AnyObject {
    let mut p = Pod {
        metadata: ObjectMeta::named("default", &format!("web-{ordinal}")),
        ..Default::default()
    };
    p.metadata.uid = format!("uid-{ordinal}");
    p.metadata.owner_references.push(OwnerReference {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
        name: "web".into(),
        uid: "set".into(),
        controller: Some(true),
        block_owner_deletion: None,
    });
    if !phase.is_empty() {
        p.spec.node_name = "n1".into();
    }
    p.status.phase = if phase.is_empty() { "Pending" } else { phase }.into();
    p.set_condition("Ready", ready, Timestamp::at(SimTime::ZERO), "");
    if terminating {
        p.metadata.deletion_timestamp = Some(Timestamp::at(SimTime::ZERO));
    }
    AnyObject::Pod(Rc::new(p))
}

/// A 3-replica set: pods created at 0 s, Running at 5/6/7 s, Ready at 10/11/12 s (warm-up
/// ends at 12 s); a fault at 100 s; web-1 not Ready 130 s–190 s; web-2 terminating at
/// 250 s and gone at 260 s, back and Ready at 300 s; the run ends at 412 s.
fn history() -> SliRecorder {
    let mut r = SliRecorder::default();
    r.on_entry(&write(0, Verb::Create, set(3), false));
    for o in 0..3 {
        r.on_entry(&write(0, Verb::Create, pod(o, "", false, false), false));
    }
    for o in 0..3 {
        let at = 5 + o as u64;
        r.on_entry(&write(
            at,
            Verb::Update,
            pod(o, "Running", false, false),
            false,
        ));
    }
    for o in 0..3 {
        let at = 10 + o as u64;
        r.on_entry(&write(
            at,
            Verb::Update,
            pod(o, "Running", true, false),
            false,
        ));
    }
    r.on_fault(t(100), "fault A");
    r.on_entry(&write(
        130,
        Verb::Update,
        pod(1, "Running", false, false),
        false,
    ));
    r.on_entry(&write(
        190,
        Verb::Update,
        pod(1, "Running", true, false),
        false,
    ));
    r.on_entry(&write(
        250,
        Verb::Update,
        pod(2, "Running", true, true),
        false,
    ));
    r.on_entry(&write(
        260,
        Verb::Delete,
        pod(2, "Running", true, true),
        true,
    ));
    r.on_entry(&write(270, Verb::Create, pod(2, "", false, false), false));
    r.on_entry(&write(
        280,
        Verb::Update,
        pod(2, "Running", false, false),
        false,
    ));
    r.on_entry(&write(
        300,
        Verb::Update,
        pod(2, "Running", true, false),
        false,
    ));
    r
}

#[test]
fn availability_and_recovery_are_exact_on_a_hand_computed_timeline() {
    let report = history().finish(t(412), Default::default());
    let web = &report.availability[0];
    // Measured 12 s → 412 s: 400 s. Unavailable replica-seconds: web-1 60 s, web-2 50 s.
    assert_eq!((web.measured_from, web.warmed_up), (t(12), true));
    assert_eq!(web.measured_time, 400 * SEC);
    assert_eq!(web.desired_area, 1200 * SEC);
    assert_eq!(web.available_area, (1200 - 60 - 50) * SEC);
    // Full redundancy lost 130–190 and 250–300: 110 s of 400.
    assert_eq!(web.full_time, 290 * SEC);
    assert_eq!(web.ordinals[&0], 400 * SEC);
    assert_eq!(web.ordinals[&1], 340 * SEC);
    assert_eq!(web.ordinals[&2], 350 * SEC);
    // The fault at 100 s: degraded from 130 s, 3/3 again at 190 s → 90 s. (web-2's later
    // dip belongs to no fault.)
    assert_eq!(
        report.recoveries.recovered,
        vec![SimDuration::from_secs(90)]
    );
    assert!(report.recoveries.not_recovered.is_empty());
    // Pending: created at 0, Running at 5/6/7 s; web-2 again 270 → 280 s.
    let pending = &report.durations.pod_pending[&Some(("default".into(), "web".into()))];
    let secs: Vec<u64> = pending
        .sorted
        .iter()
        .map(|d| d.as_nanos() / 1_000_000_000)
        .collect();
    assert_eq!(secs, vec![5, 6, 7, 10]);
}

fn slo(name: &str, sli: SliKind, target: SloTarget, window: Option<SimDuration>) -> SloSpec {
    SloSpec {
        name: name.into(),
        sli,
        stateful_set: Some(("default".into(), "web".into())),
        ordinal: None,
        target,
        window,
    }
}

fn objective(num: u128, den: u128) -> SloTarget {
    SloTarget::Objective(Fraction { num, den })
}

#[test]
fn verdicts_budgets_and_burn_rates() {
    let report = history().finish(t(412), Default::default());
    let verdicts: Vec<SloVerdict> = evaluate(
        &[
            // 1090/1200 = 90.833 %: against 90 % met, against 91 % missed.
            slo("a", SliKind::PodAvailability, objective(90, 100), None),
            slo("b", SliKind::PodAvailability, objective(91, 100), None),
            // Exactly at the objective is met: 290/400 = 72.5 %.
            slo("c", SliKind::FullRedundancy, objective(725, 1000), None),
            // 99 % over a 1-day window: bad share 27.5 % for 400 s = 110 s against a
            // budget of 864 s: 12.73 % spent.
            slo(
                "d",
                SliKind::FullRedundancy,
                objective(99, 100),
                Some(SimDuration::from_secs(86_400)),
            ),
            slo(
                "e",
                SliKind::PodPendingTime,
                SloTarget::MaxDuration {
                    max: SimDuration::from_secs(7),
                    percentile: 75,
                },
                None,
            ),
            slo(
                "f",
                SliKind::PodPendingTime,
                SloTarget::MaxDuration {
                    max: SimDuration::from_secs(7),
                    percentile: 100,
                },
                None,
            ),
        ],
        &report,
    );
    let met: Vec<bool> = verdicts.iter().map(|v| v.met).collect();
    assert_eq!(met, [true, false, true, true, true, false]);
    assert_eq!(verdicts[0].value, "90.833%");
    // Burn (1 − 0.90833) / 0.10 = 0.9167; budget left 8.33 %.
    let burn = verdicts[0].burn_rate.unwrap();
    assert!((burn - 11.0 / 12.0).abs() < 1e-9, "{burn}");
    assert!((verdicts[0].error_budget_left.unwrap() - 1.0 / 12.0).abs() < 1e-9);
    let left = verdicts[3].error_budget_left.unwrap();
    assert!((left - (1.0 - 110.0 / 864.0)).abs() < 1e-9, "{left}");
    // p75 of {5, 6, 7, 10} is rank 3: 7 s; the largest is 10 s.
    assert_eq!(
        (verdicts[4].value.as_str(), verdicts[5].value.as_str()),
        ("7s", "10s")
    );
}

#[test]
fn a_fault_never_recovered_from_misses_its_slo_and_one_with_no_impact_recovers_in_zero() {
    let mut r = history();
    r.on_fault(t(350), "fault B");
    r.on_entry(&write(
        360,
        Verb::Update,
        pod(0, "Running", false, false),
        false,
    ));
    let report = r.finish(t(412), Default::default());
    assert_eq!(
        report.recoveries.not_recovered,
        vec![SimDuration::from_secs(62)]
    );
    let mut quiet = history();
    quiet.on_fault(t(400), "fault C");
    let report_quiet = quiet.finish(t(412), Default::default());
    assert_eq!(
        report_quiet.recoveries.recovered,
        vec![SimDuration::from_secs(90), SimDuration::ZERO]
    );
    let recover = SloSpec {
        stateful_set: None,
        ..slo(
            "r",
            SliKind::TimeToRecover,
            SloTarget::MaxDuration {
                max: SimDuration::from_secs(600),
                percentile: 100,
            },
            None,
        )
    };
    let v = evaluate(std::slice::from_ref(&recover), &report);
    assert_eq!((v[0].value.as_str(), v[0].met), ("not finished", false));
    let v = evaluate(&[recover], &report_quiet);
    assert_eq!((v[0].value.as_str(), v[0].met), ("1m30s", true));
}

#[test]
fn a_set_scaled_to_zero_or_deleted_lacks_nothing_and_ends_a_recovery() {
    let mut r = history();
    r.on_fault(t(350), "fault D");
    r.on_entry(&write(
        355,
        Verb::Update,
        pod(0, "Running", false, false),
        false,
    ));
    r.on_entry(&write(360, Verb::Update, set(0), false));
    let report = r.finish(t(412), Default::default());
    assert_eq!(
        report.recoveries.recovered,
        vec![SimDuration::from_secs(90), SimDuration::from_secs(10)]
    );
    let web = &report.availability[0];
    // Full redundancy lost 130–190, 250–300 and 355–360 s: 115 s of 400.
    assert_eq!(web.full_time, 285 * SEC);
}

#[test]
fn a_set_created_at_zero_is_measured_from_the_end_of_its_first_ramp() {
    let mut r = SliRecorder::default();
    r.on_entry(&write(0, Verb::Create, set(0), false));
    r.on_entry(&write(5, Verb::Update, set(2), false));
    for o in 0..2 {
        r.on_entry(&write(6, Verb::Create, pod(o, "", false, false), false));
        r.on_entry(&write(
            10 + o as u64,
            Verb::Update,
            pod(o, "Running", true, false),
            false,
        ));
    }
    let report = r.finish(t(111), Default::default());
    let web = &report.availability[0];
    assert_eq!((web.measured_from, web.warmed_up), (t(11), true));
    assert_eq!(web.available_area, web.desired_area);
    assert_eq!(web.full_time, 100 * SEC);
}
