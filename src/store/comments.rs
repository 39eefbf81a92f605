//! Comments on a consultation's text (a unit, optionally a quoted span) or on an
//! amendment, replies one level deep, and staff's public answers (DESIGN §5).

use crate::domain::ids::{AccountId, AmendmentId, CommentId, ConsultationId, VersionId};
use crate::domain::time::Timestamp;
use diesel::prelude::*;

use super::schema::comments;
use super::{now_rfc3339, DbConnection, StoreError};
use crate::domain::comment::CommentKind;
use crate::domain::identity::Disclosure;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: CommentId,
    pub consultation_id: ConsultationId,
    pub version_id: VersionId,
    pub article_wid: String,
    pub unit_wid: String,
    pub amendment_id: Option<AmendmentId>,
    pub parent_id: Option<CommentId>,
    pub quote: String,
    pub body: String,
    pub kind: CommentKind,
    pub author_id: AccountId,
    pub disclosure: Disclosure,
    pub author_label: String,
    pub author_level: i32,
    pub form_token: String,
    pub created_at: Timestamp,
}

pub struct NewComment<'a> {
    pub consultation_id: ConsultationId,
    pub version_id: VersionId,
    pub article_wid: &'a str,
    pub unit_wid: &'a str,
    pub amendment_id: Option<AmendmentId>,
    pub parent_id: Option<CommentId>,
    pub quote: &'a str,
    pub body: &'a str,
    pub kind: CommentKind,
    pub author_id: AccountId,
    pub disclosure: Disclosure,
    pub author_label: &'a str,
    pub author_level: i32,
    pub form_token: &'a str,
}

pub fn insert(conn: &mut DbConnection, c: &NewComment<'_>) -> Result<Comment, StoreError> {
    let id: CommentId = diesel::insert_into(comments::table)
        .values((
            comments::consultation_id.eq(c.consultation_id),
            comments::version_id.eq(c.version_id),
            comments::article_wid.eq(c.article_wid),
            comments::unit_wid.eq(c.unit_wid),
            comments::amendment_id.eq(c.amendment_id),
            comments::parent_id.eq(c.parent_id),
            comments::quote.eq(c.quote),
            comments::body.eq(c.body),
            comments::kind.eq(c.kind),
            comments::author_id.eq(c.author_id),
            comments::disclosure.eq(c.disclosure),
            comments::author_label.eq(c.author_label),
            comments::author_level.eq(c.author_level),
            comments::form_token.eq(c.form_token),
            comments::created_at.eq(now_rfc3339()),
        ))
        .returning(comments::id)
        .get_result(conn)?;
    by_id(conn, id)?.ok_or_else(|| StoreError::Invalid("the comment vanished".into()))
}

pub fn by_id(conn: &mut DbConnection, id: CommentId) -> Result<Option<Comment>, StoreError> {
    Ok(comments::table
        .find(id)
        .select(Comment::as_select())
        .load(conn)?
        .pop())
}

/// The comment a form already made (a second submit of the same form).
pub fn by_form(
    conn: &mut DbConnection,
    author_id: AccountId,
    form_token: &str,
) -> Result<Option<Comment>, StoreError> {
    Ok(comments::table
        .filter(comments::author_id.eq(author_id))
        .filter(comments::form_token.eq(form_token))
        .select(Comment::as_select())
        .load(conn)?
        .pop())
}

/// The comments on the text of one article of a consultation (the article and its
/// paragraphs, replies and answers included, not those on amendments), oldest first.
pub fn for_article(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    article_wid: &str,
) -> Result<Vec<Comment>, StoreError> {
    Ok(comments::table
        .filter(comments::consultation_id.eq(consultation_id))
        .filter(comments::article_wid.eq(article_wid))
        .filter(comments::amendment_id.is_null())
        .order(comments::id.asc())
        .select(Comment::as_select())
        .load(conn)?)
}

/// The comments on an amendment (replies and answers included), oldest first.
pub fn for_amendment(
    conn: &mut DbConnection,
    amendment_id: AmendmentId,
) -> Result<Vec<Comment>, StoreError> {
    Ok(comments::table
        .filter(comments::amendment_id.eq(amendment_id))
        .order(comments::id.asc())
        .select(Comment::as_select())
        .load(conn)?)
}

/// Comments (replies and answers included) on the text of each article of a
/// consultation, in one query.
pub fn counts_by_article(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(comments::table
        .filter(comments::consultation_id.eq(consultation_id))
        .filter(comments::amendment_id.is_null())
        .group_by(comments::article_wid)
        .select((comments::article_wid, diesel::dsl::count_star()))
        .load(conn)?)
}

/// A consultation's comments after id `after`, by id, at most `limit` (to walk them all in
/// bounded memory).
pub fn of_consultation_after(
    conn: &mut DbConnection,
    consultation_id: ConsultationId,
    after: i64,
    limit: i64,
) -> Result<Vec<Comment>, StoreError> {
    Ok(comments::table
        .filter(comments::consultation_id.eq(consultation_id))
        .filter(comments::id.gt(after))
        .order(comments::id.asc())
        .limit(limit)
        .select(Comment::as_select())
        .load(conn)?)
}
