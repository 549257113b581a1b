//! The slug: a post's name in URLs (`/posts/{slug}`) and in the store.

use std::fmt;

/// A post's URL name: lowercase ASCII letters and digits in groups joined by single hyphens,
/// at most 80 characters, e.g. `leiderschap-en-vertrouwen`.
///
/// ```
/// use postbode::content::Slug;
/// assert!(Slug::parse("leiderschap-en-vertrouwen").is_ok());
/// assert!(Slug::parse("Leiderschap En Vertrouwen").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

pub const MAX_SLUG_LEN: usize = 80;

impl Slug {
    /// Checks `raw` and explains in a sentence what is wrong when it is not a slug.
    pub fn parse(raw: &str) -> Result<Slug, String> {
        if raw.is_empty() {
            return Err("the slug is empty".into());
        }
        if raw.len() > MAX_SLUG_LEN {
            return Err(format!("the slug `{raw}` is longer than {MAX_SLUG_LEN} characters"));
        }
        let valid_chars = raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_chars || raw.starts_with('-') || raw.ends_with('-') || raw.contains("--") {
            return Err(format!(
                "the slug `{raw}` may only hold lowercase letters a-z, digits and single hyphens between them (e.g. `leiderschap-en-vertrouwen`)"
            ));
        }
        Ok(Slug(raw.to_owned()))
    }

    /// The slug a title suggests: diacritics folded (`één` → `een`), lowercase, every run of
    /// other characters one hyphen, cut at a word boundary to fit `MAX_SLUG_LEN`.
    ///
    /// ```
    /// use postbode::content::Slug;
    /// assert_eq!(Slug::from_title("Één keer per week: ‘Leiderschap’ & Co.").unwrap().as_str(), "een-keer-per-week-leiderschap-co");
    /// ```
    pub fn from_title(title: &str) -> Result<Slug, String> {
        let folded = deunicode::deunicode(title).to_ascii_lowercase();
        let words: Vec<&str> = folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let mut slug = String::new();
        for word in words {
            let extra = if slug.is_empty() { word.len() } else { word.len() + 1 };
            if slug.len() + extra > MAX_SLUG_LEN {
                break;
            }
            if !slug.is_empty() {
                slug.push('-');
            }
            slug.push_str(word);
        }
        Slug::parse(&slug).map_err(|_| format!("the title `{title}` has no letters or digits to make a slug from"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_what_would_break_a_url() {
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "a/b", "a.b", "één", "a_b"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Slug::parse(&"a".repeat(MAX_SLUG_LEN + 1)).is_err());
    }

    proptest! {
        #[test]
        fn accepts_every_hyphen_joined_lowercase_word_list(words in proptest::collection::vec("[a-z0-9]{1,8}", 1..6)) {
            let raw = words.join("-");
            let slug = Slug::parse(&raw).unwrap();
            prop_assert_eq!(slug.as_str(), raw.as_str());
        }

        #[test]
        fn whatever_it_accepts_is_url_safe(raw in "\\PC{0,20}") {
            if let Ok(slug) = Slug::parse(&raw) {
                prop_assert!(slug.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
        }
    }
}
