//! A template with `{{slot}}` markers, filled in two stages: the post's parts once, the
//! recipient's parts per email.

/// The markers the email template uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Title,
    Preheader,
    Masthead,
    Greeting,
    Image,
    Content,
    WebUrl,
    WebLabel,
    Identity,
    ContactEmail,
    ContactHref,
    PrivacyUrl,
    Reason,
    UnsubscribeUrl,
    /// The words before *Afmelden*: [`super::email::unsubscribe_lead`].
    UnsubscribeLead,
    /// ` · <a …>Je voorkeuren</a>` beside *Afmelden*, for a reader who has a preference page.
    PreferencesLink,
}

impl Slot {
    const ALL: [(&'static str, Slot); 16] = [
        ("title", Slot::Title),
        ("preheader", Slot::Preheader),
        ("masthead", Slot::Masthead),
        ("greeting", Slot::Greeting),
        ("image", Slot::Image),
        ("content", Slot::Content),
        ("web_url", Slot::WebUrl),
        ("web_label", Slot::WebLabel),
        ("identity", Slot::Identity),
        ("contact_email", Slot::ContactEmail),
        ("contact_href", Slot::ContactHref),
        ("privacy_url", Slot::PrivacyUrl),
        ("reason", Slot::Reason),
        ("unsubscribe_url", Slot::UnsubscribeUrl),
        ("unsubscribe_lead", Slot::UnsubscribeLead),
        ("preferences_link", Slot::PreferencesLink),
    ];

    fn from_name(name: &str) -> Option<Slot> {
        Slot::ALL.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Slot(Slot),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

impl Template {
    /// Splits `text` at `{{name}}` markers; a marker with an unknown name stays text.
    pub fn parse(text: &str) -> Template {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let slot = after.find("}}").and_then(|end| Some((Slot::from_name(&after[..end])?, end)));
            match slot {
                Some((slot, end)) => {
                    literal.push_str(&rest[..start]);
                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                    segments.push(Segment::Slot(slot));
                    rest = &after[end + 2..];
                }
                None => {
                    literal.push_str(&rest[..start + 2]);
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        segments.push(Segment::Text(literal));
        segments.retain(|s| !matches!(s, Segment::Text(t) if t.is_empty()));
        Template { segments }
    }

    /// Fills the slots for which `value` gives `Some`, keeping the others for later.
    pub fn fill(&self, mut value: impl FnMut(Slot) -> Option<String>) -> Template {
        let mut segments: Vec<Segment> = Vec::with_capacity(self.segments.len());
        for segment in &self.segments {
            let filled = match segment {
                Segment::Text(t) => Segment::Text(t.clone()),
                Segment::Slot(slot) => match value(*slot) {
                    Some(v) => Segment::Text(v),
                    None => Segment::Slot(*slot),
                },
            };
            match (segments.last_mut(), filled) {
                (Some(Segment::Text(prev)), Segment::Text(t)) => prev.push_str(&t),
                (_, filled) => segments.push(filled),
            }
        }
        Template { segments }
    }

    /// Fills every remaining slot and returns the text.
    pub fn finish(&self, mut value: impl FnMut(Slot) -> String) -> String {
        let len = self.segments.iter().map(|s| if let Segment::Text(t) = s { t.len() } else { 64 }).sum();
        let mut out = String::with_capacity(len);
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Slot(slot) => out.push_str(&value(*slot)),
            }
        }
        out
    }

    /// The slots still open.
    #[cfg(test)]
    pub fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Slot(slot) => Some(*slot),
            Segment::Text(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_two_stages() {
        let t = Template::parse("<a href=\"{{unsubscribe_url}}\">{{title}}</a>{{nope}}");
        let post = t.fill(|slot| (slot == Slot::Title).then(|| "Titel".to_owned()));
        assert_eq!(post.slots().collect::<Vec<_>>(), vec![Slot::UnsubscribeUrl]);
        assert_eq!(post.finish(|_| "U".into()), "<a href=\"U\">Titel</a>{{nope}}");
    }
}
