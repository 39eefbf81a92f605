//! The natural order of the names of divisions and articles, as codes number them:
//! « Article 2 » before « Article 10 », « 4 bis » after « 4 » and before « 5 »,
//! « L111-2 » before « L111-10 », « Titre préliminaire » before « Titre Ier », « Livre
//! IX » before « Livre X ». Used to order the folders and files of a code kept one file
//! per article, where the file system's order (`Article 10` before `Article 2`) is wrong.

use std::cmp::Ordering;
use unicode_normalization::UnicodeNormalization;

/// One piece of a name, in the order pieces compare: a Latin multiplicative (`bis`,
/// `ter`…, inserted right after its number, so before `4-1`), then a number (digits, a
/// Roman numeral, `premier`, `préliminaire` as 0), then a word (case and accents folded).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Piece {
    Latin(u32),
    Number(u128),
    Word(String),
}

/// `bis` = 2, `ter` = 3, … as in « Article 4 bis », « 4 ter », « 4 quater ».
const LATIN: [&str; 19] = [
    "bis",
    "ter",
    "quater",
    "quinquies",
    "sexies",
    "septies",
    "octies",
    "nonies",
    "decies",
    "undecies",
    "duodecies",
    "terdecies",
    "quaterdecies",
    "quindecies",
    "sexdecies",
    "septdecies",
    "octodecies",
    "novodecies",
    "vicies",
];

fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The value of a Roman numeral in its canonical form (`IV`, not `IIII`), with an
/// optional French ordinal suffix (`Ier`, `Ire`); single `L`, `C`, `D`, `M` are letters
/// (`Article L 111-2`), not numbers.
fn roman(word: &str) -> Option<u128> {
    let core = ["ère", "er", "re"]
        .iter()
        .find_map(|s| word.strip_suffix(s))
        .filter(|c| !c.is_empty())
        .unwrap_or(word);
    if core.len() == 1 && !matches!(core, "I" | "V" | "X") {
        return None;
    }
    let value = |c: char| match c {
        'I' => Some(1),
        'V' => Some(5),
        'X' => Some(10),
        'L' => Some(50),
        'C' => Some(100),
        'D' => Some(500),
        'M' => Some(1000),
        _ => None,
    };
    let digits: Vec<u128> = core.chars().map(value).collect::<Option<_>>()?;
    // Subtractive notation: a digit before a larger one counts negatively (`IX` = 9).
    let total = digits.iter().enumerate().fold(0i128, |acc, (i, &d)| {
        if digits.get(i + 1).is_some_and(|&n| n > d) {
            acc - d as i128
        } else {
            acc + d as i128
        }
    });
    let total = u128::try_from(total).ok().filter(|&t| t > 0)?;
    (to_roman(total) == core).then_some(total)
}

fn to_roman(mut n: u128) -> String {
    const TABLE: [(u128, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for &(v, s) in &TABLE {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

fn pieces(name: &str) -> Vec<Piece> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            // Numbers too long for u128 compare by length, then digits (as words would).
            let n = digits
                .trim_start_matches('0')
                .parse::<u128>()
                .unwrap_or(u128::MAX);
            out.push(Piece::Number(n));
            // `1er`, `1re`, `2e`: the ordinal suffix says nothing more.
            let rest: String = chars[i..]
                .iter()
                .take_while(|c| c.is_alphabetic())
                .collect();
            if matches!(rest.as_str(), "er" | "re" | "ère" | "e" | "ème") {
                i += rest.chars().count();
            }
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // A whole word, not the letters of `L111` or `R*321`.
            let whole = (start == 0 || !chars[start - 1].is_alphanumeric())
                && chars.get(i).is_none_or(|c| !c.is_ascii_digit());
            let folded = fold(&word);
            let piece = if let Some(n) = LATIN.iter().position(|&l| l == folded) {
                Piece::Latin(n as u32 + 2)
            } else if let Some(n) = whole.then(|| roman(&word)).flatten() {
                Piece::Number(n)
            } else {
                match folded.as_str() {
                    "preliminaire" | "liminaire" => Piece::Number(0),
                    "premier" | "premiere" => Piece::Number(1),
                    _ => Piece::Word(folded),
                }
            };
            out.push(piece);
        } else {
            // Spaces, dashes, dots, `*`: separators.
            i += 1;
        }
    }
    out
}

/// A name's place in the natural order of codes, computed once: comparing two keys is
/// comparing their names with `natural_cmp`, without folding case and accents, reading
/// numbers and allocating at every comparison (a sort compares each name about log n
/// times, and an import sorts the same paths at every commit).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NaturalKey {
    // Field order is the comparison order: the pieces, then the text as the tie-break.
    pieces: Vec<Piece>,
    name: String,
}

/// The key that orders `name` among others as `natural_cmp` does.
pub fn natural_key(name: &str) -> NaturalKey {
    NaturalKey {
        pieces: pieces(name),
        name: name.to_string(),
    }
}

/// Compares two names in the natural order of codes (see the module's comment); names
/// equal in that order compare by their text, so the order is total. To sort many
/// names, or the same names again, sort by `natural_key` instead.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    natural_key(a).cmp(&natural_key(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| natural_cmp(a, b));
        v
    }

    #[test]
    fn numbers_compare_as_numbers() {
        assert_eq!(
            sorted(&["Article 10", "Article 2", "Article 1er", "Article 100"]),
            ["Article 1er", "Article 2", "Article 10", "Article 100"]
        );
        assert_eq!(
            sorted(&[
                "Article L111-10",
                "Article L111-2",
                "Article L112-1",
                "Article L111-1"
            ]),
            [
                "Article L111-1",
                "Article L111-2",
                "Article L111-10",
                "Article L112-1"
            ]
        );
        assert_eq!(
            sorted(&["Article R*321-10", "Article R*321-9"]),
            ["Article R*321-9", "Article R*321-10"]
        );
    }

    #[test]
    fn latin_multiplicatives_follow_their_number() {
        assert_eq!(
            sorted(&[
                "Article 5",
                "Article 4 quater",
                "Article 4-1",
                "Article 4 ter",
                "Article 4",
                "Article 4 bis"
            ]),
            [
                "Article 4",
                "Article 4 bis",
                "Article 4 ter",
                "Article 4 quater",
                "Article 4-1",
                "Article 5"
            ]
        );
    }

    #[test]
    fn roman_numerals_and_ordinal_words() {
        assert_eq!(
            sorted(&[
                "Titre X",
                "Titre IX",
                "Titre II",
                "Titre Ier",
                "Titre préliminaire",
                "Titre IV",
                "Titre V"
            ]),
            [
                "Titre préliminaire",
                "Titre Ier",
                "Titre II",
                "Titre IV",
                "Titre V",
                "Titre IX",
                "Titre X"
            ]
        );
        assert_eq!(roman("XIV"), Some(14));
        assert_eq!(roman("Ier"), Some(1));
        assert_eq!(roman("IIII"), None);
        assert_eq!(roman("CIVIL"), None);
        assert_eq!(roman("L"), None);
        assert_eq!(
            sorted(&["Chapitre II", "Chapitre premier"]),
            ["Chapitre premier", "Chapitre II"]
        );
    }

    #[test]
    fn words_fold_case_and_accents_and_the_order_is_total() {
        assert_eq!(
            sorted(&["Partie réglementaire", "Partie législative"]),
            ["Partie législative", "Partie réglementaire"]
        );
        assert_eq!(natural_cmp("Élise", "elise"), "Élise".cmp("elise"));
        assert_eq!(natural_cmp("a", "a"), Ordering::Equal);
        assert_eq!(natural_cmp("Annexe", "Article 1"), Ordering::Less);
    }

    #[test]
    fn keys_order_names_as_natural_cmp_does() {
        let names = [
            "Article 10",
            "Article 2",
            "Article 1er",
            "Article 100",
            "Article L111-10",
            "Article L111-2",
            "Article L112-1",
            "Article L111-1",
            "Article R*321-10",
            "Article R*321-9",
            "Article 5",
            "Article 4 quater",
            "Article 4-1",
            "Article 4 ter",
            "Article 4",
            "Article 4 bis",
            "Titre X",
            "Titre IX",
            "Titre II",
            "Titre Ier",
            "Titre préliminaire",
            "Titre IV",
            "Titre V",
            "Chapitre II",
            "Chapitre premier",
            "Partie réglementaire",
            "Partie législative",
            "Élise",
            "elise",
            "a",
            "Annexe",
            "Article 1",
            "",
            "Article 99999999999999999999999999999999999999999",
        ];
        for a in names {
            for b in names {
                // The order as it was defined before keys: pieces, then the text.
                let reference = pieces(a).cmp(&pieces(b)).then_with(|| a.cmp(b));
                assert_eq!(
                    natural_key(a).cmp(&natural_key(b)),
                    reference,
                    "{a:?} against {b:?}"
                );
                assert_eq!(natural_cmp(a, b), reference, "{a:?} against {b:?}");
            }
        }
        let mut by_key: Vec<&str> = names.to_vec();
        by_key.sort_by_cached_key(|n| natural_key(n));
        let by_cmp: Vec<String> = sorted(&names);
        assert_eq!(by_key, by_cmp);
    }
}
