//! "Did you mean ...?" suggestions: the closest known name to a misspelled one, by
//! optimal-string-alignment (Damerau-Levenshtein) distance or a case-insensitive match.

/// The largest edit distance still worth suggesting.
const MAX_DISTANCE: usize = 2;

/// Edit distance between `a` and `b` counting insertions, deletions, substitutions and
/// transpositions of adjacent characters (the optimal string alignment variant).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j] = distance between a[..i] and b[..j]; three rolling rows suffice.
    let mut before_prev: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before_prev[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before_prev, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`: an exact case-insensitive match first, then the smallest
/// edit distance up to 2 (ties go to the earlier candidate). Names of one or two characters
/// only match case-insensitively, since any other short name is "close" to them.
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == word {
            continue;
        }
        if cand.to_lowercase() == lower {
            return Some(cand);
        }
        let limit = if word.chars().count() <= 2 {
            0
        } else {
            MAX_DISTANCE
        };
        let d = edit_distance(&lower, &cand.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean "replicas"?` for the closest candidate, if any is close enough.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(word, candidates).map(|c| format!("did you mean {c:?}?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let cases: &[(&str, &str, usize)] = &[
            ("", "", 0),
            ("", "abc", 3),
            ("abc", "", 3),
            ("replica", "replicas", 1),
            ("sepc", "spec", 1),
            ("scael", "scale", 1),
            ("kitten", "sitting", 3),
            ("ab", "ba", 1),
            ("abcd", "acbd", 1),
            ("same", "same", 0),
            ("zoens", "zones", 1),
            ("ünïcödé", "unicode", 4),
        ];
        for &(a, b, d) in cases {
            assert_eq!(edit_distance(a, b), d, "{a:?} vs {b:?}");
            assert_eq!(edit_distance(b, a), d, "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn suggestions() {
        let fields = [
            "replicas",
            "selector",
            "template",
            "serviceName",
            "minReadySeconds",
        ];
        let cases: &[(&str, Option<&str>)] = &[
            ("replica", Some("replicas")),
            ("replcias", Some("replicas")),
            ("servicename", Some("serviceName")),
            ("SELECTOR", Some("selector")),
            ("templtae", Some("template")),
            ("frobnicate", None),
            ("re", None),
            ("replicas", None),
        ];
        for &(word, want) in cases {
            assert_eq!(closest(word, fields), want, "{word}");
        }
        assert_eq!(
            did_you_mean("sepc", ["spec", "kind"]),
            Some("did you mean \"spec\"?".to_string())
        );
        assert_eq!(closest("ab", ["AB", "abc"]), Some("AB"));
    }
}
