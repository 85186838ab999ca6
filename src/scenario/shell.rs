//! Splits a command line into words as a POSIX shell does before kubectl sees them:
//! whitespace separates words; single quotes keep everything literally (a JSON patch is
//! written `-p '{"spec":{"replicas":3}}'`); double quotes keep everything but `\"`, `\\`,
//! `` \` `` and `\$` escapes; a backslash outside quotes escapes the next character.
//! No expansion of any kind happens (there is no shell environment to expand from).

/// The words of `line`, or what is wrong with its quoting.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word has started (so that `''` is an empty word, not nothing).
    let mut started = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            '\'' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unclosed single quote (')".into()),
                    }
                }
            }
            '"' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '`' | '$')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unclosed double quote (\")".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unclosed double quote (\")".into()),
                    }
                }
            }
            '\\' => {
                started = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("a backslash ends the line".into()),
                }
            }
            c => {
                started = true;
                word.push(c);
            }
        }
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        let cases: &[(&str, &[&str])] = &[
            ("  scale sts web  ", &["scale", "sts", "web"]),
            (
                r#"patch sts web -p '{"spec": {"replicas": 3}}'"#,
                &["patch", "sts", "web", "-p", r#"{"spec": {"replicas": 3}}"#],
            ),
            (
                r#"patch sts web -p "{\"spec\":{}}""#,
                &["patch", "sts", "web", "-p", r#"{"spec":{}}"#],
            ),
            (r#"a'b'"c" d\ e '' x"#, &["abc", "d e", "", "x"]),
            (r#"'it''s' "a\nb""#, &["its", r"a\nb"]),
            ("", &[]),
        ];
        for &(line, want) in cases {
            assert_eq!(split_words(line).unwrap(), want, "{line}");
        }
        assert!(
            split_words("patch -p '{")
                .unwrap_err()
                .contains("single quote")
        );
        assert!(split_words("a \"b").unwrap_err().contains("double quote"));
        assert!(split_words("a \\").is_err());
    }
}
