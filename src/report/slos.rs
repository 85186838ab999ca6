//! The SLO verdict table of the run summary: one row per SLO with the SLI's value, the
//! target, the error budget left and the burn rate (ratio SLOs), and met or MISSED,
//! aligned by the same tab writer as kubectl's tables.

use crate::sli::slo::SloVerdict;

/// The table (two-space indent, as the rest of the summary); empty without SLOs.
pub fn render(verdicts: &[SloVerdict]) -> String {
    if verdicts.is_empty() {
        return String::new();
    }
    let met = verdicts.iter().filter(|v| v.met).count();
    let mut rows = vec![[
        "NAME".to_string(),
        "SLI".to_string(),
        "SCOPE".to_string(),
        "VALUE".to_string(),
        "TARGET".to_string(),
        "BUDGET LEFT".to_string(),
        "BURN RATE".to_string(),
        "VERDICT".to_string(),
    ]];
    for v in verdicts {
        rows.push([
            v.name.clone(),
            v.sli.to_string(),
            v.scope.clone(),
            v.value.clone(),
            v.target.clone(),
            v.error_budget_left
                .map_or("-".into(), |b| format!("{:.1}%", b * 100.0)),
            v.burn_rate.map_or("-".into(), |b| format!("{b:.2}x")),
            if v.met { "met" } else { "MISSED" }.to_string(),
        ]);
    }
    let mut cells = String::new();
    for r in rows {
        cells.push_str("    ");
        cells.push_str(&r.join("\t"));
        cells.push('\n');
    }
    let mut s = format!("  SLOs: {met} of {} met\n", verdicts.len());
    s.push_str(&crate::operator::tabwriter::TABLE.align(&cells));
    s
}
