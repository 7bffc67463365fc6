"""The consent questions we ask, and the exact wording (versioned) that a
customer agreed to or declined. A consent row stores the wording version, so
changing a text here means giving it a new version string."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentTopic:
    channel: str
    purpose: str
    label: str
    wording_version: str
    wording: str

    @property
    def key(self) -> str:
        """Form-field-safe identifier, e.g. "sms__servicing"."""
        return f"{self.channel}__{self.purpose}"


CONSENT_TOPICS: tuple[ConsentTopic, ...] = (
    ConsentTopic(
        "email",
        "electronic_records",
        "Electronic records and disclosures",
        "esign-2025-01",
        "I agree to receive disclosures, notices, statements and other records "
        "electronically, by e-mail and in the portal, instead of on paper. I can "
        "withdraw this consent at any time and ask for paper copies free of charge.",
    ),
    ConsentTopic(
        "sms",
        "servicing",
        "Text messages about my account",
        "sms-servicing-2025-01",
        "I agree to receive text messages about my applications and loans, such as "
        "payment reminders, at the mobile numbers I give. Message and data rates may "
        "apply. Reply STOP to stop.",
    ),
    ConsentTopic(
        "phone",
        "servicing",
        "Calls about my account",
        "phone-servicing-2025-01",
        "I agree to receive calls, including autodialed and pre-recorded calls, "
        "about my applications and loans at the numbers I give.",
    ),
    ConsentTopic(
        "email",
        "marketing",
        "Offers by e-mail",
        "email-marketing-2025-01",
        "Send me offers and news about products that may interest me by e-mail.",
    ),
    ConsentTopic(
        "sms",
        "marketing",
        "Offers by text message",
        "sms-marketing-2025-01",
        "Send me offers by text message. Message and data rates may apply. Reply STOP to stop.",
    ),
    ConsentTopic(
        "portal",
        "credit_report",
        "Credit report",
        "credit-report-2025-01",
        "I authorize the lender to obtain my consumer credit report to evaluate my "
        "applications and to review and collect my accounts.",
    ),
)

TOPICS_BY_KEY = {topic.key: topic for topic in CONSENT_TOPICS}
TOPICS_BY_PAIR = {(topic.channel, topic.purpose): topic for topic in CONSENT_TOPICS}
ESIGN_TOPIC = TOPICS_BY_PAIR[("email", "electronic_records")]


def current_wording_version(channel: str, purpose: str) -> str:
    """The wording version we show today for this channel and purpose, or ""
    if we have no standard text for the pair (staff then name the version)."""
    topic = TOPICS_BY_PAIR.get((channel, purpose))
    return topic.wording_version if topic else ""
