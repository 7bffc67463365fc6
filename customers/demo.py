"""Deterministic demo customers, created through the real services.

`load_demo_customers()` makes the same customers for the same seed on every
machine: about four in five are people, the rest businesses, each with a
tax id that passes python-stdnum, a US address, a phone in the fictional
555-01xx range, and consents. Running it again creates nothing new: a demo
customer is found again by its tax id's blind index.

`create_demo_borrower()` makes the portal demo login, a borrower linked to a
complete person customer.
"""

import contextlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import phonenumbers
from stdnum.us import ein as stdnum_ein
from stdnum.us import itin as stdnum_itin
from stdnum.us import ssn as stdnum_ssn

from core import context
from customers import services
from customers.consent_wording import TOPICS_BY_PAIR
from customers.models import Consent, Customer
from customers.tax_ids import tax_id_hash
from users.demo import DEMO_PASSWORD
from users.models import User

DEFAULT_SEED = 2026
DEMO_BORROWER_EMAIL = "borrower@example.com"
DEMO_BORROWER_TAX_ID = "536-90-4399"

FIRST_NAMES = (
    "James",
    "Maria",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Patricia",
    "William",
    "Elizabeth",
    "Jose",
    "Barbara",
    "Richard",
    "Susan",
    "Thomas",
    "Jessica",
    "Daniel",
    "Sarah",
    "Kevin",
    "Karen",
    "Anthony",
    "Nancy",
    "Luis",
    "Lisa",
    "Andrew",
    "Betty",
    "Wei",
    "Priya",
    "Kwame",
    "Aisha",
    "Minh",
    "Sofia",
    "Tyrone",
    "Hannah",
    "Carlos",
    "Grace",
    "Raj",
    "Emily",
    "Omar",
    "Chloe",
)
MIDDLE_INITIALS = ("A", "B", "C", "D", "E", "J", "K", "L", "M", "R", "S", "T", "")
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Nguyen",
    "Patel",
    "Kim",
    "Okafor",
    "Chen",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
)
BUSINESS_STEMS = (
    "Blue Ridge",
    "Harbor Point",
    "Summit",
    "Maple Leaf",
    "Golden Gate",
    "Prairie",
    "Riverbend",
    "Iron Horse",
    "Evergreen",
    "Lakeside",
    "Red Rock",
    "Cedar Valley",
    "North Star",
    "Pioneer",
    "Silver Creek",
    "Bayview",
)
BUSINESS_TRADES = (
    ("Bakery", "Bread Co."),
    ("Auto Repair", "Garage"),
    ("Landscaping", "Lawn Care"),
    ("Dental Group", "Family Dental"),
    ("Coffee Roasters", "Cafe"),
    ("Hardware", "Supply"),
    ("Logistics", "Freight"),
    ("Plumbing", "Pipe Works"),
    ("Fitness", "Gym"),
    ("Printing", "Print Shop"),
    ("Catering", "Kitchen"),
    ("Florist", "Flowers"),
)
ENTITY_SUFFIX = {
    Customer.EntityType.LLC: "LLC",
    Customer.EntityType.CORPORATION: "Inc.",
    Customer.EntityType.S_CORPORATION: "Corp.",
    Customer.EntityType.PARTNERSHIP: "Partners",
    Customer.EntityType.SOLE_PROPRIETORSHIP: "",
}
STREETS = (
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Park Blvd",
    "Washington St",
    "Lincoln Ave",
    "Elm St",
    "Pine St",
    "Lakeview Dr",
    "Sunset Blvd",
    "River Rd",
    "Highland Ave",
    "Church St",
    "Franklin St",
    "Jefferson Ave",
    "Madison Ave",
)
# (city, state, ZIP, telephone area code)
CITIES = (
    ("New York", "NY", "10001", "212"),
    ("Brooklyn", "NY", "11201", "718"),
    ("Los Angeles", "CA", "90012", "213"),
    ("San Francisco", "CA", "94103", "415"),
    ("Chicago", "IL", "60601", "312"),
    ("Houston", "TX", "77002", "713"),
    ("Austin", "TX", "78701", "512"),
    ("Phoenix", "AZ", "85004", "602"),
    ("Philadelphia", "PA", "19103", "215"),
    ("Miami", "FL", "33130", "305"),
    ("Atlanta", "GA", "30303", "404"),
    ("Seattle", "WA", "98101", "206"),
    ("Denver", "CO", "80202", "303"),
    ("Boston", "MA", "02108", "617"),
    ("Columbus", "OH", "43215", "614"),
    ("Charlotte", "NC", "28202", "704"),
    ("Nashville", "TN", "37203", "615"),
    ("Portland", "OR", "97204", "503"),
    ("Minneapolis", "MN", "55401", "612"),
    ("Newark", "NJ", "07102", "973"),
)
EIN_PREFIXES = ("10", "12", "20", "27", "33", "45", "46", "47", "81", "82", "83", "84", "86", "94")


@dataclass
class DemoSpec:
    data: dict
    addresses: list[dict] = field(default_factory=list)
    phones: list[dict] = field(default_factory=list)
    consents: list[dict] = field(default_factory=list)


@contextlib.contextmanager
def _as_demo_job():
    """Audit rows say "system:demo" unless a signed-in user is acting."""
    if context.current().user_id is not None:
        yield
        return
    with context.system_actor("demo"):
        yield


def _ssn(rng: random.Random) -> str:
    while True:
        area = rng.choice([n for n in range(1, 900) if n != 666])
        number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        if stdnum_ssn.is_valid(number):
            return number


def _itin(rng: random.Random) -> str:
    while True:
        group = rng.choice([g for g in range(70, 100) if g not in (89, 93)])
        number = f"9{rng.randint(0, 99):02d}{group:02d}{rng.randint(1, 9999):04d}"
        if stdnum_itin.is_valid(number):
            return number


def _ein(rng: random.Random) -> str:
    while True:
        number = f"{rng.choice(EIN_PREFIXES)}{rng.randint(1, 9999999):07d}"
        if stdnum_ein.is_valid(number):
            return number


def _phone(rng: random.Random, area: str) -> str:
    # 555-0100..0199 is reserved for fiction, and libphonenumber accepts it.
    number = f"({area}) 555-01{rng.randint(0, 99):02d}"
    assert phonenumbers.is_valid_number(phonenumbers.parse(number, "US")), number
    return number


def _address(rng: random.Random, city: tuple, kind: str, primary: bool = True) -> dict:
    name, state, zip_code, _ = city
    line2 = rng.choice(
        [
            "",
            "",
            "",
            f"Apt {rng.randint(1, 30)}{rng.choice('ABCD')}",
            f"Suite {rng.randint(100, 900)}",
        ]
    )
    return {
        "kind": kind,
        "line1": f"{rng.randint(10, 9899)} {rng.choice(STREETS)}",
        "line2": line2,
        "city": name,
        "state": state,
        "postal_code": zip_code,
        "is_primary": primary,
    }


def _consent(channel: str, purpose: str, granted: bool) -> dict:
    return {
        "channel": channel,
        "purpose": purpose,
        "granted": granted,
        "wording_version": TOPICS_BY_PAIR[(channel, purpose)].wording_version,
    }


def _person(rng: random.Random, index: int) -> DemoSpec:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city = rng.choice(CITIES)
    use_itin = rng.random() < 0.06
    birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 50 * 365))
    data = {
        "kind": Customer.Kind.PERSON,
        "first_name": first,
        "middle_name": rng.choice(MIDDLE_INITIALS),
        "last_name": last,
        "date_of_birth": birth,
        "tax_id_type": Customer.TaxIdType.ITIN if use_itin else Customer.TaxIdType.SSN,
        "tax_id": _itin(rng) if use_itin else _ssn(rng),
        "email": f"{first}.{last}{index}@example.com".lower(),
        "preferred_channel": rng.choice(["email", "email", "sms", "phone", "mail"]),
        "preferred_language": "es" if rng.random() < 0.15 else "en",
    }
    if rng.random() < 0.3:
        data["quiet_hours_start"], data["quiet_hours_end"] = "21:00", "08:00"
    phones = [{"kind": "mobile", "number": _phone(rng, city[3]), "is_primary": True}]
    if rng.random() < 0.25:
        phones.append({"kind": "home", "number": _phone(rng, city[3]), "is_primary": False})
    addresses = [_address(rng, city, "residential")]
    if rng.random() < 0.15:
        addresses.append(
            {
                **_address(rng, city, "mailing", primary=False),
                "line1": f"PO Box {rng.randint(100, 9999)}",
                "line2": "",
            }
        )
    consents = [_consent("email", "electronic_records", True)]
    if rng.random() < 0.7:
        consents.append(_consent("sms", "servicing", True))
    if rng.random() < 0.5:
        consents.append(_consent("phone", "servicing", True))
    marketing = rng.random()
    if marketing < 0.4:
        consents.append(_consent("email", "marketing", True))
    elif marketing < 0.55:
        consents += [_consent("email", "marketing", True), _consent("email", "marketing", False)]
    return DemoSpec(data, addresses, phones, consents)


def _business(rng: random.Random, index: int) -> DemoSpec:
    stem = rng.choice(BUSINESS_STEMS)
    trade, dba_trade = rng.choice(BUSINESS_TRADES)
    entity = rng.choice(list(ENTITY_SUFFIX))
    name = " ".join(part for part in (stem, trade, ENTITY_SUFFIX[entity]) if part)
    city = rng.choice(CITIES)
    registered = date(1988, 1, 1) + timedelta(days=rng.randint(0, 34 * 365))
    slug = stem.lower().replace(" ", "")
    data = {
        "kind": Customer.Kind.BUSINESS,
        "business_name": name,
        "dba_name": f"{stem} {dba_trade}" if rng.random() < 0.5 else "",
        "entity_type": entity,
        "registration_date": registered,
        "tax_id_type": Customer.TaxIdType.EIN,
        "tax_id": _ein(rng),
        "email": f"accounts{index}@{slug}.example.com",
        "preferred_channel": rng.choice(["email", "phone"]),
        "preferred_language": "en",
    }
    addresses = [_address(rng, city, "business")]
    if rng.random() < 0.3:
        addresses.append({**_address(rng, city, "mailing", primary=False), "line2": ""})
    phones = [{"kind": "work", "number": _phone(rng, city[3]), "is_primary": True}]
    consents = [_consent("email", "electronic_records", True), _consent("phone", "servicing", True)]
    return DemoSpec(data, addresses, phones, consents)


def demo_specs(*, count: int, seed: int = DEFAULT_SEED) -> list[DemoSpec]:
    """The customers `load_demo_customers` would create: the same list for
    the same (count, seed), and the first n of a longer list equal the
    shorter one's."""
    rng = random.Random(seed)
    specs: list[DemoSpec] = []
    seen = {tax_id_hash(DEMO_BORROWER_TAX_ID.replace("-", ""), Customer.TaxIdType.SSN)}
    while len(specs) < count:
        index = len(specs) + 1
        spec = _business(rng, index) if rng.random() < 0.2 else _person(rng, index)
        digest = tax_id_hash(spec.data["tax_id"], spec.data["tax_id_type"])
        if digest in seen:
            continue
        seen.add(digest)
        specs.append(spec)
    return specs


def load_demo_customers(
    *, count: int = 40, seed: int = DEFAULT_SEED, acting_user=None
) -> list[Customer]:
    """Create (or find again) `count` demo customers; returns them in spec
    order. Idempotent: a customer already holding a spec's tax id is reused,
    not duplicated. Audit rows name `acting_user`, else "system:demo"."""
    customers: list[Customer] = []
    with _as_demo_job():
        for spec in demo_specs(count=count, seed=seed):
            existing = Customer.objects.filter(
                tax_id_hash=tax_id_hash(spec.data["tax_id"], spec.data["tax_id_type"])
            ).first()
            if existing is not None:
                customers.append(existing)
                continue
            customers.append(
                services.create_customer(
                    data=spec.data,
                    addresses=spec.addresses,
                    phones=spec.phones,
                    consents=spec.consents,
                    acting_user=acting_user,
                    source=Consent.Source.STAFF,
                )
            )
    return customers


def create_demo_borrower(
    *,
    email: str = DEMO_BORROWER_EMAIL,
    password: str = DEMO_PASSWORD,
    first_name: str = "Dana",
    last_name: str = "Rivera",
    date_of_birth: date = date(1988, 4, 12),
) -> Customer:
    """The demo portal login: a borrower (username = `email`) linked to a
    person customer with a tax id, address, mobile phone and consents.
    Idempotent: if the account exists, its customer is returned unchanged."""
    user = User.objects.filter(username__iexact=email).first()
    if user is not None:
        return Customer.objects.get(user=user)
    with _as_demo_job():
        customer = services.register_borrower(
            first_name=first_name,
            last_name=last_name,
            email=email,
            date_of_birth=date_of_birth,
            password=password,
            accept_electronic_records=True,
        )
        customer = services.update_customer(
            customer=customer,
            changes={
                "tax_id_type": "ssn",
                "tax_id": DEMO_BORROWER_TAX_ID,
                "preferred_channel": "sms",
            },
            acting_user=customer.user,
        )
        services.add_phone(
            customer=customer,
            data={"kind": "mobile", "number": "(617) 555-0142"},
            acting_user=customer.user,
        )
        services.add_address(
            customer=customer,
            data={
                "kind": "residential",
                "line1": "42 Beacon St",
                "line2": "Apt 3B",
                "city": "Boston",
                "state": "MA",
                "postal_code": "02108",
            },
            acting_user=customer.user,
        )
        services.set_consents(
            customer=customer,
            decisions={("sms", "servicing"): True, ("email", "marketing"): False},
            source=Consent.Source.PORTAL,
            acting_user=customer.user,
        )
    return customer
