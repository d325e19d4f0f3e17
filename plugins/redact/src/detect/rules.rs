//! The table of token formats with a literal trigger: where the trigger is
//! looked for, where the token starts relative to it, its pattern, its
//! boundaries, which part is secret and what validates it. Compiled by
//! [`super::patterns`]; adding a format is adding a row here.

use super::kinds::Kind;

/// Which part of a matched token is the secret to replace.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Secret {
    /// All of it.
    Whole,
    /// What follows the first run of blanks (`Bearer <token>`).
    AfterBlank,
    /// Between `://` and the final `@` (`user:password`).
    UserInfo,
    /// What follows the first `=` and blanks (`…:_authToken=<token>`).
    AfterEquals,
    /// What follows the n-th `/` (`hooks.slack.com/services/<path>`).
    AfterSlash(u8),
}

/// Where a token starts relative to its trigger literal.
#[derive(Clone, Copy)]
pub(super) enum Back {
    /// At the trigger.
    None,
    /// Exactly this many bytes before it (`<32 hex>-us12`).
    Exactly(usize),
    /// After walking back over up to `max` bytes of `class`.
    Over(Class, usize),
}

/// Byte classes used for boundaries and walking back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// No constraint.
    Any,
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_]`
    Word,
    /// `[A-Za-z0-9_-]`
    Token,
    /// `[0-9]`
    Digit,
    /// URL scheme characters `[A-Za-z0-9+.-]`.
    Scheme,
    /// Anything but ASCII whitespace.
    NonSpace,
}

impl Class {
    pub(super) fn has(self, c: u8) -> bool {
        match self {
            Class::Any => true,
            Class::Alnum => c.is_ascii_alphanumeric(),
            Class::Word => c.is_ascii_alphanumeric() || c == b'_',
            Class::Token => c.is_ascii_alphanumeric() || c == b'_' || c == b'-',
            Class::Digit => c.is_ascii_digit(),
            Class::Scheme => c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'),
            Class::NonSpace => !c.is_ascii_whitespace(),
        }
    }
}

/// Where the scanner looks for a rule's trigger literals.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    /// At the start of a word (`AKIA…`, `ghp_…`, `eyJ…`, `Bearer`).
    WordStart,
    /// At a `:` (`://`, `:AA`, `:_authToken=`).
    Colon,
    /// At a `-` (`-----BEGIN`, `-us12`).
    Dash,
}

/// Extra check after the shape matched.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    None,
    /// Header and payload decode to JSON.
    Jwt,
    /// Decodes to `user:password`.
    BasicAuth,
    /// Has a digit and a letter (random tokens do; English words do not).
    Mixed,
    /// Extend to the matching `-----END … -----` line (or the end of text).
    KeyBlock,
}

/// One token format.
pub(super) struct Rule {
    pub kind: Kind,
    /// Trigger literals, matched ASCII-case-insensitively, then checked
    /// exactly unless `ci`.
    pub triggers: &'static [&'static str],
    /// Where the triggers are looked for.
    pub at: At,
    /// Triggers match in any case (`Bearer`, `bearer`).
    pub ci: bool,
    pub back: Back,
    /// Anchored pattern (no capture groups: see `secret`).
    pub pattern: &'static str,
    /// The part of the match that is replaced.
    pub secret: Secret,
    /// The byte before the match must not be of this class.
    pub left: Class,
    /// The byte after the match must not be of this class.
    pub right: Class,
    pub check: Check,
    /// Longest match: a longer one is cut here, as the counted repetition
    /// `{min,max}` it replaces would have stopped (then `right` decides).
    /// Written as `{min,}` plus this, a pattern builds in a fraction of the
    /// time: each counted copy of a class is an automaton state, and
    /// building the automaton is most of what a new tenant's redact step
    /// costs at start.
    pub max_len: usize,
}

const fn rule(
    kind: Kind,
    triggers: &'static [&'static str],
    pattern: &'static str,
    edge: Class,
) -> Rule {
    Rule {
        kind,
        triggers,
        at: At::WordStart,
        ci: false,
        back: Back::None,
        pattern,
        secret: Secret::Whole,
        left: edge,
        right: edge,
        check: Check::None,
        max_len: usize::MAX,
    }
}

/// Every trigger-based token format. Discord tokens have no literal: the
/// scanner runs [`DISCORD`] on word shapes instead.
pub(super) const RULES: &[Rule] = &[
    Rule {
        check: Check::KeyBlock,
        at: At::Dash,
        ..rule(
            Kind::PrivateKey,
            &["-----BEGIN"],
            r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----",
            Class::Any,
        )
    },
    Rule {
        check: Check::Jwt,
        ..rule(
            Kind::Jwt,
            &["eyJ"],
            r"eyJ[A-Za-z0-9_-]{4,}=*\.[A-Za-z0-9_-]{2,}=*(?:\.[A-Za-z0-9_-]*=*)?",
            Class::Token,
        )
    },
    Rule {
        ci: true,
        check: Check::Mixed,
        right: Class::Any,
        secret: Secret::AfterBlank,
        ..rule(
            Kind::BearerToken,
            &["bearer"],
            r"(?i:bearer)[ \t]+[A-Za-z0-9._~+/-]{8,}=*",
            Class::Alnum,
        )
    },
    Rule {
        ci: true,
        check: Check::BasicAuth,
        right: Class::Any,
        secret: Secret::AfterBlank,
        ..rule(
            Kind::BasicAuth,
            &["basic"],
            r"(?i:basic)[ \t]+[A-Za-z0-9+/]{6,}={0,2}",
            Class::Alnum,
        )
    },
    Rule {
        back: Back::Over(Class::Scheme, 32),
        at: At::Colon,
        secret: Secret::UserInfo,
        ..rule(
            Kind::UrlCredentials,
            &["://"],
            r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@"'<>]*:[^\s/?#@"'<>]+@"#,
            Class::Any,
        )
    },
    rule(
        Kind::AwsAccessKey,
        &["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
        r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
        Class::Alnum,
    ),
    Rule {
        // gh?_ + at most 251, github_pat_ + at most 244.
        max_len: 255,
        ..rule(
            Kind::GithubToken,
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            r"gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}",
            Class::Word,
        )
    },
    rule(
        Kind::GitlabToken,
        &[
            "glpat-",
            "gldt-",
            "glft-",
            "glsoat-",
            "glrt-",
            "GR1348941",
            "glcbt-",
            "glimt-",
            "glptt-",
            "gloas-",
        ],
        r"(?:glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_-]{20,50}|GR1348941[A-Za-z0-9_-]{20,50}|glcbt-(?:[0-9a-fA-F]{2}_)?[A-Za-z0-9_-]{20,50}|glimt-[A-Za-z0-9_-]{25}|glptt-[A-Za-z0-9_-]{40}|gloas-[A-Za-z0-9_-]{64}",
        Class::Word,
    ),
    Rule {
        // glagent- + at most 1,024.
        max_len: 1_032,
        ..rule(
            Kind::GitlabToken,
            &["glagent-"],
            r"glagent-[A-Za-z0-9_-]{50,}",
            Class::Word,
        )
    },
    Rule {
        right: Class::Token,
        // xox?- + at most 250.
        max_len: 255,
        ..rule(
            Kind::SlackToken,
            &["xox"],
            r"xox[abposr]-[0-9A-Za-z-]{10,}",
            Class::Word,
        )
    },
    Rule {
        back: Back::Exactly(6),
        secret: Secret::AfterSlash(2),
        ..rule(
            Kind::SlackWebhook,
            &["slack.com/"],
            r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{16,}",
            Class::Any,
        )
    },
    Rule {
        // ?k_live_ + at most 247.
        max_len: 255,
        ..rule(
            Kind::StripeKey,
            &["sk_live_", "rk_live_"],
            r"[sr]k_live_[0-9A-Za-z]{20,}",
            Class::Word,
        )
    },
    rule(
        Kind::GoogleApiKey,
        &["AIza"],
        r"AIza[0-9A-Za-z_-]{35}",
        Class::Token,
    ),
    Rule {
        check: Check::Mixed,
        ..rule(
            Kind::OpenaiKey,
            &["sk-"],
            r"sk-(?:proj-|svcacct-|admin-|ant-[a-z]{3}[0-9]{2}-)?[A-Za-z0-9_-]{20,200}",
            Class::Token,
        )
    },
    rule(
        Kind::SendgridKey,
        &["SG."],
        r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        Class::Token,
    ),
    Rule {
        back: Back::Exactly(32),
        at: At::Dash,
        ..rule(
            Kind::MailchimpKey,
            &["-us"],
            r"[0-9a-f]{32}-us[0-9]{1,2}",
            Class::Alnum,
        )
    },
    rule(
        Kind::NpmToken,
        &["npm_"],
        r"npm_[A-Za-z0-9]{36}",
        Class::Word,
    ),
    Rule {
        back: Back::Over(Class::NonSpace, 256),
        at: At::Colon,
        secret: Secret::AfterEquals,
        ..rule(
            Kind::NpmToken,
            &[":_authToken="],
            r"//[^\s]+/:_authToken=[ \t]*(?:npm_[A-Za-z0-9_-]+|[A-Fa-f0-9-]{36})",
            Class::Any,
        )
    },
    rule(
        Kind::PypiToken,
        &["pypi-Ag"],
        r"pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{70,}",
        Class::Token,
    ),
    Rule {
        back: Back::Over(Class::Digit, 10),
        right: Class::Token,
        at: At::Colon,
        ..rule(
            Kind::TelegramToken,
            &[":AA"],
            r"[0-9]{8,10}:AA[0-9A-Za-z_-]{33}",
            Class::Alnum,
        )
    },
    rule(
        Kind::ShopifyToken,
        &["shpat_", "shpss_", "shpca_", "shppa_"],
        r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
        Class::Word,
    ),
    rule(
        Kind::HuggingfaceToken,
        &["hf_"],
        r"hf_[A-Za-z0-9]{34}",
        Class::Word,
    ),
    Rule {
        back: Back::Exactly(4),
        secret: Secret::AfterSlash(3),
        ..rule(
            Kind::SoftlayerKey,
            &["softlayer.com/"],
            r"api\.softlayer\.com/(?:soap|rest)/v3(?:\.1)?/[a-z0-9]{64}",
            Class::Any,
        )
    },
];

/// Discord bot tokens, tried by the scanner on `[MNO]…` words before a dot.
pub(super) const DISCORD: Rule = rule(
    Kind::DiscordToken,
    &[],
    r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}",
    Class::Token,
);
