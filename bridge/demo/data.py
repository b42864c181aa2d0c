"""Demo HR data: senders and employees in several countries and time zones.

Includes the awkward cases the bridge must handle: a landline, an unparsable number, an
employee without a mobile, and one employee whose local time is night for most UTC runs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bridge.domain.models import Sender
from bridge.store import Store
from bridge.store.dialect import Tx

DEMO_SENDERS = (
    Sender(
        code="HR",
        description="HR certification reminders",
        from_number="+15005550006",
        mps=10.0,
        quiet_start="21:00",
        quiet_end="08:00",
        default_time_zone="America/New_York",
        help_text="HR reminders. Reply YES with the code when renewed, STOP to opt out. "
        "Questions: hr-help@example.com",
    ),
    Sender(
        code="IT",
        description="IT incident alerts",
        from_number="+15005550007",
        mps=5.0,
        default_time_zone="UTC",
        help_text="IT alerts. Reply STOP to opt out.",
    ),
)

# Mobile numbers by time zone, several per zone (numbers must be unique: replies are matched to
# employees by number). The demo picks zones by the time it runs, so that the story is the same
# at any hour: six employees where it is day, one where it is night (quiet hours defer them).
_ZONE_PREFIXES = {
    "America/Los_Angeles": "+1415555010",
    "America/New_York": "+1212555013",
    "America/Mexico_City": "+52551234567",
    "Europe/London": "+44791112345",
    "Europe/Paris": "+3361234567",
    "Asia/Dubai": "+97150123456",
    "Asia/Kolkata": "+91981234567",
    "Asia/Tokyo": "+81901234567",
    "Australia/Sydney": "+6141234567",
}
# Ten valid mobile numbers per zone (the last digit varies): more than the roster ever needs.
ZONE_NUMBERS: dict[str, tuple[str, ...]] = {
    zone: tuple(f"{prefix}{digit}" for digit in range(10))
    for zone, prefix in _ZONE_PREFIXES.items()
}
# Countries whose numbers name a single zone: an employee without a zone on record gets it
# from the number (phonenumbers.timezone), which only works when there is one.
SINGLE_ZONE = (
    "America/Los_Angeles",
    "America/New_York",
    "America/Mexico_City",
    "Europe/Paris",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Tokyo",
)

Employee = tuple[int, str, str | None, str | None, str, int | None]
# (id, name, email, manager id) for the seven employees with a mobile; 1006 is the night one.
_MOBILE = (
    (1001, "Dana Whitfield", "dana@example.com", None),
    (1002, "Ravi Menon", "ravi@example.com", 1001),
    (1003, "Lucie Martin", "lucie@example.com", 1001),
    (1004, "Tomás Ibarra", "tomas@example.com", 1001),
    (1005, "Hannah Becker", "hannah@example.com", 1006),
    (1006, "Kenji Sato", "kenji@example.com", 1001),
    (1007, "Priya Nair", "priya@example.com", 1006),
)
# The awkward cases: a landline, an unparsable number, no number at all.
_AWKWARD: tuple[Employee, ...] = (
    (1008, "Front Desk (landline)", "+442071838750", "Europe/London", "desk@example.com", 1001),
    (1009, "Sam Typo", "12345", None, "sam@example.com", 1001),
    (1010, "Alex Nomobile", None, None, "alex@example.com", 1001),
)
NIGHT_EMPLOYEE = 1006
NO_ZONE_EMPLOYEE = 1007  # time zone derived from the number


def _local_hour(zone: str, now: datetime) -> float:
    local = now.astimezone(ZoneInfo(zone))
    return local.hour + local.minute / 60


def demo_employees(now: datetime) -> tuple[Employee, ...]:
    """The roster for a run at ``now``: day zones for six, a night zone for one."""
    day = [z for z in ZONE_NUMBERS if 9 <= _local_hour(z, now) < 20]
    night = [z for z in ZONE_NUMBERS if not 6 <= _local_hour(z, now) < 22]
    used: dict[str, int] = {}

    def number_in(zone: str) -> str:
        used[zone] = used.get(zone, 0) + 1
        return ZONE_NUMBERS[zone][used[zone] - 1]

    roster: list[Employee] = []
    day_cycle = [z for z in day if z != "Europe/London"] or day
    for index, (emp_id, name, email, manager) in enumerate(_MOBILE):
        if emp_id == NIGHT_EMPLOYEE:
            zone = night[0]
        elif emp_id == NO_ZONE_EMPLOYEE:
            zone = next(z for z in reversed(day) if z in SINGLE_ZONE)
        else:
            zone = day_cycle[index % len(day_cycle)]
        stored_zone = None if emp_id == NO_ZONE_EMPLOYEE else zone
        roster.append((emp_id, name, number_in(zone), stored_zone, email, manager))
    return (*roster, *_AWKWARD)


# Apache Fineract's recipients (the default view's STAFF and CLIENT): loan officers and their
# clients, so POST /sms {"clientId": 3001} works on a demo database. (id, name, mobile, zone,
# email) and (id, name, mobile, zone, loan officer).
DEMO_STAFF: tuple[tuple[int, str, str, str, str], ...] = (
    (201, "Grace Mwangi", "+14155550181", "America/Los_Angeles", "grace.mwangi@example.com"),
    (202, "Tomas Ruiz", "+14155550182", "America/Los_Angeles", "tomas.ruiz@example.com"),
)
DEMO_CLIENTS: tuple[tuple[int, str, str, str, int | None], ...] = (
    (3001, "Amina Njoroge", "+14155550183", "America/Los_Angeles", 201),
    (3002, "Kofi Mensah", "+14155550184", "America/Los_Angeles", 202),
    (3003, "Lena Park", "+14155550185", "America/Los_Angeles", None),
)


def seed_fineract(tx: Tx) -> None:
    tx.execute("DELETE FROM fin_demo_clients")
    tx.execute("DELETE FROM fin_demo_staff")
    tx.executemany(
        "INSERT INTO fin_demo_staff (staff_id, display_name, mobile_number, time_zone, email)"
        " VALUES (:id, :name, :mobile, :tz, :email)",
        [{"id": i, "name": n, "mobile": m, "tz": tz, "email": e} for i, n, m, tz, e in DEMO_STAFF],
    )
    tx.executemany(
        "INSERT INTO fin_demo_clients (client_id, display_name, mobile_number, time_zone,"
        " staff_id) VALUES (:id, :name, :mobile, :tz, :staff)",
        [
            {"id": i, "name": n, "mobile": m, "tz": tz, "staff": s}
            for i, n, m, tz, s in DEMO_CLIENTS
        ],
    )


def seed(store: Store, now: datetime) -> None:
    for sender in DEMO_SENDERS:
        store.save_sender(sender, now)
    with store.dialect.transaction("seed") as tx:
        tx.execute("UPDATE hr_demo_employees SET manager_id = NULL")
        tx.execute("DELETE FROM hr_demo_employees")
        # Managers are set in a second pass: the foreign key needs them to exist first.
        employees = demo_employees(now)
        for emp_id, name, mobile, tz, email, _manager in employees:
            tx.execute(
                "INSERT INTO hr_demo_employees (employee_id, full_name, mobile_number, time_zone,"
                " email, manager_id) VALUES (:id, :name, :mobile, :tz, :email, NULL)",
                {"id": emp_id, "name": name, "mobile": mobile, "tz": tz, "email": email},
            )
        for emp_id, *_rest, manager in employees:
            if manager is not None:
                tx.execute(
                    "UPDATE hr_demo_employees SET manager_id = :manager WHERE employee_id = :id",
                    {"manager": manager, "id": emp_id},
                )
        seed_fineract(tx)


# (cert id = reply code, employee, certification, days until it expires, status)
DEMO_CERTIFICATIONS: tuple[tuple[int, int, str, int, str], ...] = (
    (4821, 1001, "Forklift Operator", 10, "ACTIVE"),
    (4822, 1002, "First Aid", 7, "ACTIVE"),
    (4823, 1003, "Forklift Operator", 12, "ACTIVE"),
    (4824, 1004, "Hazmat Handling", 5, "ACTIVE"),
    (4825, 1005, "First Aid", 9, "ACTIVE"),
    (4826, 1006, "Crane Safety", 3, "ACTIVE"),
    (4827, 1007, "Working at Heights", 13, "ACTIVE"),
    (4828, 1008, "Fire Warden", 6, "ACTIVE"),
    (4829, 1009, "First Aid", 8, "ACTIVE"),
    (4830, 1010, "Forklift Operator", 11, "ACTIVE"),
    (4831, 1002, "Hazmat Handling", 45, "ACTIVE"),  # not yet due: no reminder
    (4832, 1004, "Crane Safety", 4, "RENEWAL_CONFIRMED"),  # already renewed: no reminder
)


def seed_certifications(store: Store, today: date) -> None:
    with store.dialect.transaction("seed") as tx:
        tx.execute("DELETE FROM hr_demo_certifications")
        for cert_id, employee_id, name, days, status in DEMO_CERTIFICATIONS:
            tx.execute(
                "INSERT INTO hr_demo_certifications (cert_id, employee_id, cert_name,"
                " expires_on, status) VALUES (:c, :e, :n, :d, :s)",
                {
                    "c": cert_id,
                    "e": employee_id,
                    "n": name,
                    "d": (today + timedelta(days=days)).isoformat(),
                    "s": status,
                },
            )


def seed_keywords(store: Store) -> None:
    """Every reply to the HR number goes to the certification handler (the PL/SQL twin is
    plsql/demo/hr/hr_keywords.sql); STOP/START/HELP are handled before any handler."""
    from bridge.store.keyword_store import KeywordRule

    store.save_keyword(
        KeywordRule(keyword="*", sender_code="HR", action="HANDLER", handler="hr_cert_sms.on_reply")
    )
