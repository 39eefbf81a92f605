//! Comments (DESIGN §5): input limits, and whether a quoted span is (still) in a text.

use super::state::closed_set;

closed_set! {
    /// A citizen's comment (or reply), or staff's public answer (`comments.kind`).
    pub enum CommentKind("comment kind") {
        Comment = "comment",
        Answer = "answer",
    }
}

/// The longest comment body, in bytes (markdown, rendered sanitized).
pub const MAX_BODY_BYTES: usize = 10 * 1024;
/// The longest quoted span, in bytes.
pub const MAX_QUOTE_BYTES: usize = 1024;

/// What is wrong with a comment's input; each is an i18n key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentInput {
    EmptyBody,
    BodyTooLong,
    QuoteTooLong,
}

impl CommentInput {
    pub fn key(self) -> &'static str {
        match self {
            CommentInput::EmptyBody => "err_comment_empty",
            CommentInput::BodyTooLong => "err_comment_too_long",
            CommentInput::QuoteTooLong => "err_quote_too_long",
        }
    }
}

/// Line ends as browsers send them (CRLF) become `\n`; surrounding blank space goes.
pub fn clean_body(body: &str) -> Result<String, CommentInput> {
    let body = body.replace("\r\n", "\n");
    let body = body.trim();
    if body.is_empty() {
        Err(CommentInput::EmptyBody)
    } else if body.len() > MAX_BODY_BYTES {
        Err(CommentInput::BodyTooLong)
    } else {
        Ok(body.to_string())
    }
}

/// A quote with its runs of blank space made single spaces (so a quote copied from a
/// page, where lines wrap, matches the text); `''` for none.
pub fn clean_quote(quote: &str) -> Result<String, CommentInput> {
    if quote.len() > MAX_QUOTE_BYTES * 2 {
        return Err(CommentInput::QuoteTooLong);
    }
    let q = normalize(quote);
    if q.len() > MAX_QUOTE_BYTES {
        Err(CommentInput::QuoteTooLong)
    } else {
        Ok(q)
    }
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `quote` (cleaned) appears in `text`, blank space compared loosely. An empty
/// quote is in every text.
pub fn quote_in(quote: &str, text: &str) -> bool {
    quote.is_empty() || normalize(text).contains(quote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in CommentKind::ALL {
            assert_eq!(k.as_str().parse::<CommentKind>(), Ok(k));
        }
        assert!("reply".parse::<CommentKind>().is_err());
    }

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(clean_body("  a\r\nb \n"), Ok("a\nb".to_string()));
        assert_eq!(clean_body(" \r\n "), Err(CommentInput::EmptyBody));
        assert_eq!(
            clean_body(&"x".repeat(MAX_BODY_BYTES + 1)),
            Err(CommentInput::BodyTooLong)
        );
        assert!(clean_body(&"x".repeat(MAX_BODY_BYTES)).is_ok());
    }

    #[test]
    fn quotes_match_loosely_on_blank_space_only() {
        let text = "Le conseil municipal\npeut  consulter les habitants.";
        let q = clean_quote(" municipal peut\n consulter ").unwrap();
        assert_eq!(q, "municipal peut consulter");
        assert!(quote_in(&q, text));
        assert!(!quote_in("municipal doit", text));
        assert!(!quote_in("Municipal peut", text), "case matters");
        assert!(quote_in("", text));
        assert_eq!(
            clean_quote(&"y ".repeat(MAX_QUOTE_BYTES)),
            Err(CommentInput::QuoteTooLong)
        );
    }
}
