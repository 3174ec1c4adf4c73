//! Guessing how a table was written, from its first bytes: the delimiter, and whether a line ends in CRLF.

/// The delimiters a visitor's file may use, in the order preferred when the evidence ties.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
const LINES_TO_READ: usize = 30;

/// The delimiter that splits the first lines into the same number of fields most consistently. Quoted
/// text is skipped, so a comma inside quotes in a semicolon file does not count. A file with one column
/// (no candidate appears) reads as comma-separated.
pub fn delimiter(sample: &[u8]) -> u8 {
    let lines = counts_per_line(sample);
    let mut best = (b',', 0usize, 0usize); // (delimiter, lines agreeing, fields)
    for (k, &candidate) in CANDIDATES.iter().enumerate() {
        let counts: Vec<usize> = lines.iter().map(|c| c[k]).collect();
        let Some(mode) = most_common_nonzero(&counts) else { continue };
        let agreeing = counts.iter().filter(|&&c| c == mode).count();
        if agreeing > best.1 || (agreeing == best.1 && mode > best.2) {
            best = (candidate, agreeing, mode);
        }
    }
    best.0
}

/// Whether the first line break is CRLF, so a download can end its lines the way the file did.
pub fn uses_crlf(sample: &[u8]) -> bool {
    sample.iter().position(|&b| b == b'\n').is_some_and(|at| at > 0 && sample[at - 1] == b'\r')
}

/// For each of the first lines (outside quotes), how often each candidate delimiter appears.
fn counts_per_line(sample: &[u8]) -> Vec<[usize; 4]> {
    let mut lines = Vec::new();
    let mut current = [0usize; 4];
    let mut in_quotes = false;
    let mut any = false;
    for &byte in sample {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => {
                if any {
                    lines.push(current);
                    if lines.len() == LINES_TO_READ {
                        return lines;
                    }
                }
                current = [0; 4];
                any = false;
                continue;
            }
            _ if !in_quotes => {
                if let Some(k) = CANDIDATES.iter().position(|&c| c == byte) {
                    current[k] += 1;
                }
            }
            _ => {}
        }
        any = true;
    }
    if any {
        lines.push(current);
    }
    lines
}

fn most_common_nonzero(counts: &[usize]) -> Option<usize> {
    let mut values: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
    values.sort_unstable();
    let mut best: Option<(usize, usize)> = None; // (value, frequency)
    let mut i = 0;
    while i < values.len() {
        let j = values[i..].iter().position(|&v| v != values[i]).map_or(values.len(), |p| i + p);
        if best.is_none_or(|(_, f)| j - i > f) {
            best = Some((values[i], j - i));
        }
        i = j;
    }
    best.map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_delimiter() {
        assert_eq!(delimiter(b"a,b,c\n1,2,3\n4,5,6\n"), b',');
        assert_eq!(delimiter(b"a;b;c\n1,5;2,5;3\n4;5;6\n"), b';');
        assert_eq!(delimiter(b"a\tb\n1\t2\n"), b'\t');
        assert_eq!(delimiter(b"only\n1\n2\n"), b',');
    }

    #[test]
    fn ignores_delimiters_inside_quotes() {
        assert_eq!(delimiter(b"name;value\n\"a, b, c\";1\n\"d, e\";2\n"), b';');
    }

    #[test]
    fn notices_crlf() {
        assert!(uses_crlf(b"a,b\r\n1,2\r\n"));
        assert!(!uses_crlf(b"a,b\n1,2\n"));
        assert!(!uses_crlf(b"a,b"));
    }
}
