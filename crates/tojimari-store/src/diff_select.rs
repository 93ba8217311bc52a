//! Which two scans `diff` compares: scans named by number, `latest` or `latest~N`, or by default the last two
//! complete scans with the same scope (profile, targets and ports asked). A scan that did not complete
//! (interrupted, or still running) is never the baseline: named as A it is refused, and the default never
//! picks it. Pure: the scans' rows in (newest first), a pair or a [`SelectError`] out.

use crate::snapshot::ScanInfo;
use crate::store::ScanStatus;

/// A scan as the user names it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ScanName {
    /// Scan number N.
    Number(i64),
    /// `latest` (0), `latest~1` (1, the one before), ...
    Latest(usize),
}

/// Why no pair can be compared. Each has a one-line message and a hint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("\"{0}\" is not a scan (a number, latest or latest~N)")]
    BadRef(String),
    #[error("there is no scan {0} in the store")]
    Unknown(String),
    #[error("scan {no} is {status} and cannot be the baseline")]
    NotComplete { no: i64, status: &'static str },
    #[error("the store has no two complete scans with the same scope to compare")]
    NoPair,
    #[error("no complete scan after scan {0} has the same scope")]
    NoPartner(i64),
}

impl SelectError {
    /// What to do next.
    pub fn hint(&self) -> &'static str {
        match self {
            SelectError::BadRef(_) => "for example: tojimari diff 3 5, tojimari diff latest~1 latest",
            SelectError::Unknown(_) => "tojimari history lists the scans",
            SelectError::NotComplete { .. } => {
                "an interrupted scan did not look at everything; compare from a complete scan (tojimari history lists them)"
            }
            SelectError::NoPair => {
                "run the same scan again, or name the two scans: tojimari diff A B (tojimari history lists them)"
            }
            SelectError::NoPartner(_) => "name the second scan: tojimari diff A B (tojimari history lists them)",
        }
    }
}

/// `12`, `latest`, `latest~2`.
pub fn parse_scan_ref(text: &str) -> Result<ScanName, SelectError> {
    let bad = || SelectError::BadRef(text.to_string());
    match text.strip_prefix("latest") {
        Some("") => Ok(ScanName::Latest(0)),
        Some(rest) => rest.strip_prefix('~').and_then(|n| n.parse().ok()).map(ScanName::Latest).ok_or_else(bad),
        None => text.parse::<i64>().ok().filter(|&n| n > 0).map(ScanName::Number).ok_or_else(bad),
    }
}

/// The scan `r` names among `scans` (newest first).
pub fn resolve_scan<'s>(scans: &'s [ScanInfo], r: ScanName, text: &str) -> Result<&'s ScanInfo, SelectError> {
    let found = match r {
        ScanName::Number(n) => scans.iter().find(|s| s.no == n),
        ScanName::Latest(back) => scans.get(back),
    };
    found.ok_or_else(|| SelectError::Unknown(text.to_string()))
}

fn baseline(scan: &ScanInfo) -> Result<&ScanInfo, SelectError> {
    match scan.status {
        ScanStatus::Complete => Ok(scan),
        other => Err(SelectError::NotComplete { no: scan.no, status: other.as_str() }),
    }
}

/// The pair (A, B) to compare. `scans` are newest first; `a` and `b` as the user typed them.
pub fn select_pair<'s>(
    scans: &'s [ScanInfo],
    a: Option<&str>,
    b: Option<&str>,
) -> Result<(&'s ScanInfo, &'s ScanInfo), SelectError> {
    let complete = || scans.iter().filter(|s| s.status == ScanStatus::Complete);
    match (a, b) {
        (Some(a), Some(b)) => {
            let sa = baseline(resolve_scan(scans, parse_scan_ref(a)?, a)?)?;
            let sb = resolve_scan(scans, parse_scan_ref(b)?, b)?;
            Ok((sa, sb))
        }
        (Some(a), None) => {
            let sa = baseline(resolve_scan(scans, parse_scan_ref(a)?, a)?)?;
            // What changed since A: the newest complete scan after it with its scope.
            let sb = complete().filter(|s| s.no > sa.no && s.same_scope(sa)).max_by_key(|s| s.no);
            sb.map(|sb| (sa, sb)).ok_or(SelectError::NoPartner(sa.no))
        }
        (None, _) => complete()
            .find_map(|sb| {
                complete().filter(|s| s.no < sb.no && s.same_scope(sb)).max_by_key(|s| s.no).map(|sa| (sa, sb))
            })
            .ok_or(SelectError::NoPair),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(no: i64, targets: &str, status: ScanStatus) -> ScanInfo {
        ScanInfo {
            id: no,
            no,
            profile: "scan".into(),
            targets: targets.into(),
            ports: "1-1000".into(),
            started_ms: no,
            ended_ms: Some(no),
            status,
        }
    }

    fn nos(pair: (&ScanInfo, &ScanInfo)) -> (i64, i64) {
        (pair.0.no, pair.1.no)
    }

    /// Newest first: 6 interrupted (X), 5 complete (Y), 4 complete (X), 3 interrupted (X), 2 complete (Y),
    /// 1 complete (X).
    fn store() -> Vec<ScanInfo> {
        use ScanStatus::*;
        [
            (6, "X", Interrupted),
            (5, "Y", Complete),
            (4, "X", Complete),
            (3, "X", Interrupted),
            (2, "Y", Complete),
            (1, "X", Complete),
        ]
        .into_iter()
        .map(|(no, t, s)| scan(no, t, s))
        .collect()
    }

    #[test]
    fn references_are_numbers_latest_and_latest_minus_n() {
        assert_eq!(parse_scan_ref("12"), Ok(ScanName::Number(12)));
        assert_eq!(parse_scan_ref("latest"), Ok(ScanName::Latest(0)));
        assert_eq!(parse_scan_ref("latest~2"), Ok(ScanName::Latest(2)));
        for bad in ["0", "-1", "x", "latest~", "latest~x", "latest1", ""] {
            assert!(matches!(parse_scan_ref(bad), Err(SelectError::BadRef(_))), "{bad}");
        }
    }

    #[test]
    fn the_default_is_the_last_two_complete_scans_with_the_same_scope() {
        let scans = store();
        // 5 (Y) pairs with 2 (Y); 6 and 3 are interrupted and never picked.
        assert_eq!(select_pair(&scans, None, None).map(nos), Ok((2, 5)));
        // Without 5 and 2: 4 (X) pairs with 1 (X), skipping 3 (interrupted).
        let x: Vec<ScanInfo> = scans.into_iter().filter(|s| s.targets == "X").collect();
        assert_eq!(select_pair(&x, None, None).map(nos), Ok((1, 4)));
        assert_eq!(select_pair(&x[..2], None, None), Err(SelectError::NoPair));
        assert_eq!(select_pair(&[], None, None), Err(SelectError::NoPair));
    }

    #[test]
    fn named_scans_and_an_interrupted_baseline() {
        let scans = store();
        assert_eq!(select_pair(&scans, Some("1"), Some("latest")).map(nos), Ok((1, 6)));
        assert_eq!(select_pair(&scans, Some("latest~2"), Some("5")).map(nos), Ok((4, 5)));
        assert_eq!(select_pair(&scans, Some("1"), None).map(nos), Ok((1, 4)));
        assert_eq!(select_pair(&scans, Some("4"), None), Err(SelectError::NoPartner(4)));
        let e = select_pair(&scans, Some("3"), Some("4")).unwrap_err();
        assert_eq!(e, SelectError::NotComplete { no: 3, status: "interrupted" });
        assert!(e.to_string().contains("scan 3 is interrupted"), "{e}");
        assert_eq!(
            select_pair(&scans, Some("latest"), None),
            Err(SelectError::NotComplete { no: 6, status: "interrupted" })
        );
        assert_eq!(select_pair(&scans, Some("9"), Some("1")), Err(SelectError::Unknown("9".into())));
        assert_eq!(select_pair(&scans, Some("1"), Some("latest~9")), Err(SelectError::Unknown("latest~9".into())));
    }
}
