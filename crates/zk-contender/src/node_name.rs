//! How a contender names its node: a per-attempt tag (so the node can be found again after a
//! lost reply) and a role marker, both data, so each recipe can match kazoo's or Curator's
//! layout.

use uuid::Uuid;

/// The shape of the per-attempt tag at the start of a node name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TagStyle {
    /// 32 hex digits, as zk-recipes' own nodes and kazoo's (`<hex><marker><seq>`).
    #[default]
    Hex,
    /// Curator's protected-mode prefix `_c_<hyphenated uuid>`, which Curator itself recognises
    /// when it looks for its own nodes.
    Curator,
}

/// Whose node layout a recipe follows, so that the same recipe of another library on the same
/// path sees its contenders. Each recipe documents what its nodes look like under each scheme;
/// every scheme's contenders are ordered together ([`crate::Contender::parse`]) whichever a
/// recipe writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Naming {
    /// zk-recipes' own: `<uuid hex><marker><seq>` with a recipe's own markers (`-lock-`...).
    #[default]
    Native,
    /// kazoo's recipes: `<uuid hex><marker><seq>` with kazoo's markers (`__lock__`...), on a
    /// recipe path created as a persistent node, since kazoo creates a recipe's path once per
    /// recipe object and fails for good once it is gone.
    Kazoo,
    /// Curator's recipes: its protected-mode names, `_c_<uuid>-<marker><seq>`, with Curator's
    /// markers (`lock-`, `latch-`...).
    Curator,
}

impl Naming {
    /// The shape of the per-attempt tag this scheme's node names start with.
    pub fn tag_style(self) -> TagStyle {
        match self {
            Naming::Native | Naming::Kazoo => TagStyle::Hex,
            Naming::Curator => TagStyle::Curator,
        }
    }

    /// Whether a missing recipe path is created as a container (swept once empty), as
    /// [`crate::Engine::containers`] takes it: not for kazoo's recipes, which need it to stay.
    pub fn containers(self) -> bool {
        self != Naming::Kazoo
    }
}

/// The name prefix of one attempt: what the create names (the server appends the sequence)
/// and the tag that finds the node again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePrefix {
    /// The name to create under the recipe path, sequence excluded.
    pub prefix: String,
    /// A string only this attempt's node contains.
    pub tag: String,
}

impl NodePrefix {
    /// A fresh prefix: a new tag in `style`, followed by `marker`, which carries the role and
    /// its separators, e.g. `-lock-` (native), `__lock__` (kazoo), `-latch-` (Curator
    /// `LeaderLatch`, after a [`TagStyle::Curator`] tag).
    pub fn new(style: TagStyle, marker: &str) -> NodePrefix {
        let id = Uuid::new_v4();
        let tag = match style {
            TagStyle::Hex => id.simple().to_string(),
            TagStyle::Curator => format!("_c_{}", id.hyphenated()),
        };
        NodePrefix {
            prefix: format!("{tag}{marker}"),
            tag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_pick_their_tag_and_path_kind() {
        assert_eq!(Naming::Native.tag_style(), TagStyle::Hex);
        assert_eq!(Naming::Kazoo.tag_style(), TagStyle::Hex);
        assert_eq!(Naming::Curator.tag_style(), TagStyle::Curator);
        assert!(Naming::Native.containers() && Naming::Curator.containers());
        assert!(!Naming::Kazoo.containers(), "kazoo needs a persistent path");
        assert_eq!(Naming::default(), Naming::Native);
    }

    #[test]
    fn prefixes_carry_their_tag_and_marker() {
        let hex = NodePrefix::new(TagStyle::Hex, "__lock__");
        assert_eq!(hex.tag.len(), 32);
        assert_eq!(hex.prefix, format!("{}__lock__", hex.tag));
        let curator = NodePrefix::new(TagStyle::Curator, "-latch-");
        assert!(curator.tag.starts_with("_c_") && curator.tag.len() == 39);
        assert_eq!(curator.prefix, format!("{}-latch-", curator.tag));
        assert_ne!(
            NodePrefix::new(TagStyle::Hex, "-").tag,
            hex.tag,
            "fresh per attempt"
        );
        for p in [hex, curator] {
            assert!(zk_core::path::validate_sequential_path(&format!("/l/{}", p.prefix)).is_ok());
        }
    }
}
