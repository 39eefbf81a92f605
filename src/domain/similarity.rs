//! Near-identical texts (copy-paste campaigns), pure: normalising a text, its word
//! shingles, MinHash signatures, LSH banding, and clustering with union-find.
//!
//! Why MinHash and LSH rather than comparing every pair: a consultation may hold tens of
//! thousands of contributions, and comparing each with each is O(n²) (50 million pairs
//! for 10,000 texts). A MinHash signature summarises a text's set of shingles so that two
//! signatures agree on a position with probability equal to the Jaccard similarity of the
//! two sets; cutting the signature into bands and hashing each band puts similar texts in
//! the same bucket with high probability and dissimilar ones rarely. Only texts sharing a
//! bucket are compared, so the work is near-linear in the number of texts. Each candidate
//! pair is then checked on the exact Jaccard similarity of the shingle sets, so a cluster
//! never rests on an estimate; a similar pair the banding misses is usually joined anyway
//! through the other members of its group (union-find is transitive).
//!
//! Everything is deterministic: the hash functions are fixed (FNV-1a for words, fixed
//! seeds mixed with the SplitMix64 finaliser for the MinHash functions), so the same
//! texts always give the same clusters.

use std::collections::{HashMap, HashSet};
use unicode_normalization::UnicodeNormalization;

/// How texts are compared and grouped.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Words per shingle (texts with fewer words make one shingle of all their words).
    pub shingle_words: usize,
    /// LSH bands, and MinHash values per band: `bands * rows` hash functions.
    pub bands: usize,
    pub rows: usize,
    /// Least Jaccard similarity of the shingle sets for two texts to be linked.
    pub threshold: f64,
    /// Least number of members for a group to be reported.
    pub min_size: usize,
}

impl Default for Settings {
    /// 3-word shingles, 128 hashes in 32 bands of 4 (a pair at similarity 0.6 shares a
    /// bucket with probability 0.99, at 0.3 with probability 0.23), threshold 0.6.
    fn default() -> Self {
        Settings {
            shingle_words: 3,
            bands: 32,
            rows: 4,
            threshold: 0.6,
            min_size: 2,
        }
    }
}

/// The words of a text, lowercased and in Unicode NFC (accents kept: "é" and "e" differ,
/// a composed and a decomposed "é" do not), anything that is not a letter or a digit
/// being a separator (punctuation, apostrophes, spaces), joined by single spaces.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfc().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

/// FNV-1a, 64 bits: a fixed, fast hash for words.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The SplitMix64 finaliser: a bijection of u64 that mixes every bit.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The shingles of a normalised text: the hashes of each run of `k` consecutive words
/// (of all the words when there are fewer), sorted and without repeats. Empty for a
/// text with no word.
pub fn shingles(normalised: &str, k: usize) -> Vec<u64> {
    let words: Vec<u64> = normalised
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| fnv1a(w.as_bytes()))
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let k = k.clamp(1, words.len());
    let mut out: Vec<u64> = words
        .windows(k)
        .map(|w| w.iter().fold(k as u64, |h, x| mix(h.rotate_left(17) ^ *x)))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The Jaccard similarity of two sorted sets without repeats: |A ∩ B| / |A ∪ B| (0 when
/// both are empty).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

/// The MinHash signature of a shingle set: for each of `n` fixed hash functions, the
/// least hash of a shingle (`u64::MAX` for an empty set).
pub fn signature(shingles: &[u64], n: usize) -> Vec<u64> {
    let seeds: Vec<u64> = (0..n as u64)
        .map(|i| mix(i.wrapping_add(0x9e37_79b9_7f4a_7c15)))
        .collect();
    let mut sig = vec![u64::MAX; n];
    for s in shingles {
        for (m, seed) in sig.iter_mut().zip(&seeds) {
            let h = mix(s ^ seed);
            if h < *m {
                *m = h;
            }
        }
    }
    sig
}

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a as usize] < self.size[b as usize] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b as usize] = a;
        self.size[a as usize] += self.size[b as usize];
    }
}

/// Groups of near-identical texts: the indices (into `texts`) of each group of at least
/// `settings.min_size` members, each group in increasing order, the largest group first
/// (ties: the one with the smallest first index). Two texts are linked when the Jaccard
/// similarity of their shingle sets is at least `settings.threshold`; a group is a
/// connected set of links. Texts with no word are never grouped.
pub fn clusters<S: AsRef<str>>(texts: &[S], settings: &Settings) -> Vec<Vec<usize>> {
    let n = texts.len();
    let sets: Vec<Vec<u64>> = texts
        .iter()
        .map(|t| shingles(&normalise(t.as_ref()), settings.shingle_words))
        .collect();
    let mut uf = UnionFind::new(n);

    // Identical shingle sets are joined at once and only one of them goes through the
    // banding: a thousand copies of one text cost one signature, not a million pairs.
    let mut exact: HashMap<&[u64], u32> = HashMap::new();
    let mut representatives: Vec<u32> = Vec::new();
    for (i, s) in sets.iter().enumerate() {
        if s.is_empty() {
            continue;
        }
        match exact.get(s.as_slice()) {
            Some(&first) => uf.union(first, i as u32),
            None => {
                exact.insert(s.as_slice(), i as u32);
                representatives.push(i as u32);
            }
        }
    }

    let rows = settings.rows.max(1);
    let bands = settings.bands.max(1);
    let signatures: Vec<Vec<u64>> = representatives
        .iter()
        .map(|&i| signature(&sets[i as usize], bands * rows))
        .collect();
    let mut checked: HashSet<(u32, u32)> = HashSet::new();
    for band in 0..bands {
        let mut buckets: HashMap<u64, Vec<u32>> = HashMap::new();
        for (r, sig) in signatures.iter().enumerate() {
            let key = sig[band * rows..(band + 1) * rows]
                .iter()
                .fold(band as u64, |h, x| mix(h ^ x));
            buckets.entry(key).or_default().push(r as u32);
        }
        for members in buckets.values().filter(|m| m.len() > 1) {
            for (x, &a) in members.iter().enumerate() {
                for &b in &members[x + 1..] {
                    let (ia, ib) = (representatives[a as usize], representatives[b as usize]);
                    if uf.find(ia) == uf.find(ib) || !checked.insert((a, b)) {
                        continue;
                    }
                    if jaccard(&sets[ia as usize], &sets[ib as usize]) >= settings.threshold {
                        uf.union(ia, ib);
                    }
                }
            }
        }
    }

    let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, s) in sets.iter().enumerate() {
        if !s.is_empty() {
            let root = uf.find(i as u32);
            groups.entry(root).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<usize>> = groups
        .into_values()
        .filter(|g| g.len() >= settings.min_size.max(2))
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "Le conseil municipal consacre chaque année au moins cinq pour cent \
        du budget d'investissement de la commune à des projets proposés et choisis par les \
        habitants, selon un règlement adopté après une concertation publique d'au moins \
        deux mois ; le bilan des projets réalisés est publié chaque année.";

    fn cluster(texts: &[&str]) -> Vec<Vec<usize>> {
        clusters(texts, &Settings::default())
    }

    #[test]
    fn normalising_keeps_accents_and_drops_punctuation() {
        assert_eq!(
            normalise("  L'Été,  À  PARIS !\n« Très » bien… 3,5 %"),
            "l été à paris très bien 3 5"
        );
        // A decomposed "é" is the composed one.
        assert_eq!(normalise("e\u{301}te\u{301}"), normalise("été"));
        assert_ne!(normalise("été"), normalise("ete"));
        assert_eq!(normalise(""), "");
        assert_eq!(normalise(" ... !!"), "");
    }

    #[test]
    fn shingles_of_short_and_empty_texts() {
        assert!(shingles("", 3).is_empty());
        assert_eq!(shingles("contre", 3).len(), 1);
        assert_eq!(shingles("tout à fait", 3).len(), 1);
        assert_eq!(shingles("un deux trois quatre", 3).len(), 2);
        assert_eq!(shingles("a b a b a b", 2).len(), 2, "repeats counted once");
        assert_ne!(shingles("contre", 3), shingles("pour", 3));
    }

    #[test]
    fn jaccard_and_signature_agree() {
        let a = shingles(&normalise(BASE), 3);
        let b = shingles(&normalise(&BASE.replace("cinq", "dix")), 3);
        let exact = jaccard(&a, &b);
        assert!((0.8..1.0).contains(&exact), "{exact}");
        let (sa, sb) = (signature(&a, 256), signature(&b, 256));
        let estimate = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / 256.0;
        assert!((estimate - exact).abs() < 0.1, "{estimate} vs {exact}");
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert_eq!(signature(&a, 8), signature(&a, 8), "deterministic");
    }

    #[test]
    fn identical_texts_cluster() {
        let g = cluster(&[BASE, "Une tout autre idée, sans rapport.", BASE, BASE]);
        assert_eq!(g, vec![vec![0, 2, 3]]);
    }

    #[test]
    fn small_edits_still_cluster() {
        let changed = BASE.replace("cinq", "dix");
        let inserted = BASE.replace("projets proposés", "projets utiles proposés");
        let deleted = BASE.replace(" publique", "");
        let punctuated = BASE.to_uppercase().replace(';', ".");
        let texts = [
            BASE,
            changed.as_str(),
            inserted.as_str(),
            deleted.as_str(),
            punctuated.as_str(),
        ];
        assert_eq!(cluster(&texts), vec![vec![0, 1, 2, 3, 4]]);
    }

    #[test]
    fn unrelated_texts_do_not_cluster() {
        let texts = [
            BASE,
            "Les horaires de la piscine municipale doivent être étendus le dimanche soir.",
            "Je propose de supprimer cet article, qui alourdit la procédure sans raison.",
            "Le délai de recours devrait être porté à trois mois pour les associations.",
            "Il faut publier les comptes rendus des conseils de quartier en ligne.",
        ];
        assert!(cluster(&texts).is_empty());
        // The same topic in other words is not a copy.
        let reworded = "Chaque année, la commune réserve une part de son budget \
            d'investissement à des projets que les habitants proposent puis votent.";
        assert!(cluster(&[BASE, reworded]).is_empty());
    }

    #[test]
    fn empty_and_very_short_inputs_do_not_panic() {
        let none: [&str; 0] = [];
        assert!(cluster(&none).is_empty());
        assert!(cluster(&[""]).is_empty());
        assert!(cluster(&["", "", "…"]).is_empty(), "no word, no group");
        assert_eq!(cluster(&["Contre.", "contre", "Pour"]), vec![vec![0, 1]]);
        assert_eq!(
            cluster(&["oui", "non", "peut-être"]),
            Vec::<Vec<usize>>::new()
        );
    }

    #[test]
    fn minimum_size_and_order() {
        let other = "Les horaires de la piscine municipale doivent être étendus le dimanche.";
        let texts = [other, BASE, other, BASE, BASE];
        assert_eq!(cluster(&texts), vec![vec![1, 3, 4], vec![0, 2]]);
        let three = Settings {
            min_size: 3,
            ..Settings::default()
        };
        assert_eq!(clusters(&texts, &three), vec![vec![1, 3, 4]]);
    }
}
