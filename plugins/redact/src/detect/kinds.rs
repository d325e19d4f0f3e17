//! The built-in detectors: their config names, replacement labels and the
//! priority that decides which one wins when two findings overlap.

/// One built-in detector. The discriminant indexes [`Kind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    /// `local@domain.tld`.
    Email,
    /// Dotted-quad IPv4 address, optionally with a CIDR suffix.
    Ipv4,
    /// IPv6 address in any RFC 4291 form, with zone id or CIDR suffix.
    Ipv6,
    /// Payment card number: issuer prefix and length known, Luhn valid.
    CreditCard,
    /// Phone number: E.164, North-American and common national forms.
    Phone,
    /// International bank account number, mod-97 checked.
    Iban,
    /// US social security number (area/group/serial rules).
    UsSsn,
    /// Bitcoin address (base58check or bech32 checked).
    CryptoWallet,
    /// JSON web token whose header and payload decode to JSON.
    Jwt,
    /// The token after `Bearer`.
    BearerToken,
    /// The credentials after `Basic` (base64 of `user:password`).
    BasicAuth,
    /// A `-----BEGIN … PRIVATE KEY-----` block up to its END line.
    PrivateKey,
    /// `user:password` in `scheme://user:password@host`.
    UrlCredentials,
    /// The value of a `password=`/`secret:`/`token`/`api_key`-style pair.
    Secret,
    /// AWS access key id (`AKIA…`, `ASIA…`).
    AwsAccessKey,
    /// AWS secret access key next to an `aws…key` name.
    AwsSecretKey,
    /// GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
    GithubToken,
    /// GitLab tokens (`glpat-`, `gldt-`, runner and agent tokens…).
    GitlabToken,
    /// Slack tokens (`xoxb-`, `xoxp-`, …).
    SlackToken,
    /// The secret path of a Slack incoming webhook.
    SlackWebhook,
    /// Stripe secret and restricted keys (`sk_live_`, `rk_live_`).
    StripeKey,
    /// Google API key (`AIza…`).
    GoogleApiKey,
    /// OpenAI / Anthropic style keys (`sk-…`, `sk-proj-…`, `sk-ant-…`).
    OpenaiKey,
    /// Twilio account and API key ids with secrets (`SK…`, `AC…`).
    TwilioKey,
    /// SendGrid API key (`SG.….…`).
    SendgridKey,
    /// Mailchimp API key (`…-us12`).
    MailchimpKey,
    /// npm tokens (`npm_…`, `//registry/:_authToken=…`).
    NpmToken,
    /// PyPI upload token (`pypi-AgEIcHlwaS5vcmc…`).
    PypiToken,
    /// Discord bot token.
    DiscordToken,
    /// Telegram bot token (`123456789:AA…`).
    TelegramToken,
    /// JFrog Artifactory API key or password (`AKC…`, `AP…`).
    ArtifactoryToken,
    /// Shopify access tokens (`shpat_`, `shpss_`, …).
    ShopifyToken,
    /// Hugging Face access token (`hf_…`).
    HuggingfaceToken,
    /// IBM Cloudant credentials.
    CloudantCredentials,
    /// IBM Cloud IAM API key.
    IbmCloudIamKey,
    /// IBM Cloud Object Storage HMAC secret key.
    IbmCosHmacKey,
    /// SoftLayer API key.
    SoftlayerKey,
}

/// Static facts about one built-in detector.
pub struct KindInfo {
    /// Name used in config (`enable`, `disable`, `modes`).
    pub name: &'static str,
    /// Text inside the replacement brackets: `[EMAIL]`.
    pub label: &'static str,
    /// On overlap the higher priority wins; private keys swallow everything.
    pub priority: u8,
    /// Values are digit strings: partial mode keeps the last four digits and
    /// hash mode hashes the digits only, so `4111 1111…` and `4111-1111…` join.
    pub digits: bool,
}

const fn info(name: &'static str, label: &'static str, priority: u8, digits: bool) -> KindInfo {
    KindInfo {
        name,
        label,
        priority,
        digits,
    }
}

/// Priority of a specific, checksummed or prefixed token format.
const TOKEN: u8 = 5;
/// Priority of structured personal data (emails, cards, IBAN…).
const PII: u8 = 4;
/// Priority of loosely shaped data (IPs, phones).
const LOOSE: u8 = 3;
/// Priority of the generic key/value secret, the weakest interpretation.
const GENERIC: u8 = 2;

/// Facts for every kind, indexed by discriminant.
pub const INFO: [KindInfo; Kind::COUNT] = [
    info("email", "EMAIL", PII, false),
    info("ipv4", "IPV4", LOOSE, false),
    info("ipv6", "IPV6", LOOSE, false),
    info("credit_card", "CREDIT_CARD", PII, true),
    info("phone", "PHONE", LOOSE, true),
    info("iban", "IBAN", PII, false),
    info("us_ssn", "US_SSN", PII, true),
    info("crypto_wallet", "CRYPTO_WALLET", PII, false),
    info("jwt", "JWT", TOKEN, false),
    info("bearer_token", "BEARER_TOKEN", PII, false),
    info("basic_auth", "BASIC_AUTH", PII, false),
    info("private_key", "PRIVATE_KEY", TOKEN + 2, false),
    info("url_credentials", "URL_CREDENTIALS", PII, false),
    info("secret", "SECRET", GENERIC, false),
    info("aws_access_key", "AWS_ACCESS_KEY", TOKEN, false),
    info("aws_secret_key", "AWS_SECRET_KEY", TOKEN, false),
    info("github_token", "GITHUB_TOKEN", TOKEN, false),
    info("gitlab_token", "GITLAB_TOKEN", TOKEN, false),
    info("slack_token", "SLACK_TOKEN", TOKEN, false),
    info("slack_webhook", "SLACK_WEBHOOK", TOKEN, false),
    info("stripe_key", "STRIPE_KEY", TOKEN, false),
    info("google_api_key", "GOOGLE_API_KEY", TOKEN, false),
    info("openai_key", "OPENAI_KEY", TOKEN, false),
    info("twilio_key", "TWILIO_KEY", TOKEN, false),
    info("sendgrid_key", "SENDGRID_KEY", TOKEN, false),
    info("mailchimp_key", "MAILCHIMP_KEY", TOKEN, false),
    info("npm_token", "NPM_TOKEN", TOKEN, false),
    info("pypi_token", "PYPI_TOKEN", TOKEN, false),
    info("discord_token", "DISCORD_TOKEN", TOKEN, false),
    info("telegram_token", "TELEGRAM_TOKEN", TOKEN, false),
    info("artifactory_token", "ARTIFACTORY_TOKEN", TOKEN, false),
    info("shopify_token", "SHOPIFY_TOKEN", TOKEN, false),
    info("huggingface_token", "HUGGINGFACE_TOKEN", TOKEN, false),
    info("cloudant_credentials", "CLOUDANT_CREDENTIALS", TOKEN, false),
    info("ibm_cloud_iam_key", "IBM_CLOUD_IAM_KEY", TOKEN, false),
    info("ibm_cos_hmac_key", "IBM_COS_HMAC_KEY", TOKEN, false),
    info("softlayer_key", "SOFTLAYER_KEY", TOKEN, false),
];

impl Kind {
    /// Number of built-in detectors.
    pub const COUNT: usize = 37;

    /// Every built-in detector, in discriminant order.
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::Email,
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::CreditCard,
        Kind::Phone,
        Kind::Iban,
        Kind::UsSsn,
        Kind::CryptoWallet,
        Kind::Jwt,
        Kind::BearerToken,
        Kind::BasicAuth,
        Kind::PrivateKey,
        Kind::UrlCredentials,
        Kind::Secret,
        Kind::AwsAccessKey,
        Kind::AwsSecretKey,
        Kind::GithubToken,
        Kind::GitlabToken,
        Kind::SlackToken,
        Kind::SlackWebhook,
        Kind::StripeKey,
        Kind::GoogleApiKey,
        Kind::OpenaiKey,
        Kind::TwilioKey,
        Kind::SendgridKey,
        Kind::MailchimpKey,
        Kind::NpmToken,
        Kind::PypiToken,
        Kind::DiscordToken,
        Kind::TelegramToken,
        Kind::ArtifactoryToken,
        Kind::ShopifyToken,
        Kind::HuggingfaceToken,
        Kind::CloudantCredentials,
        Kind::IbmCloudIamKey,
        Kind::IbmCosHmacKey,
        Kind::SoftlayerKey,
    ];

    /// Static facts about this detector.
    pub fn info(self) -> &'static KindInfo {
        &INFO[self as usize]
    }

    /// The config name (`credit_card`).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The detector called `name` in config.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// A set of built-in detectors, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSet(u64);

impl KindSet {
    /// Every built-in detector.
    pub const ALL: KindSet = KindSet((1u64 << Kind::COUNT) - 1);
    /// No detector.
    pub const NONE: KindSet = KindSet(0);

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: Kind) -> bool {
        self.0 & (1 << kind as u32) != 0
    }

    /// Add `kind`.
    pub fn insert(&mut self, kind: Kind) {
        self.0 |= 1 << kind as u32;
    }

    /// Remove `kind`.
    pub fn remove(&mut self, kind: Kind) {
        self.0 &= !(1 << kind as u32);
    }

    /// Whether any of `kinds` is in the set.
    pub fn any(self, kinds: &[Kind]) -> bool {
        kinds.iter().any(|k| self.contains(*k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_discriminant_order_and_names_are_unique() {
        for (i, kind) in Kind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i);
            assert_eq!(Kind::from_name(kind.name()), Some(*kind));
            assert_eq!(kind.info().label, kind.name().to_ascii_uppercase());
        }
        assert_eq!(KindSet::ALL.0.count_ones() as usize, Kind::COUNT);
    }
}
