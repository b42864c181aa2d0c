"""Demo HR data: senders and employees in several countries and time zones.

Includes the awkward cases the bridge must handle: a landline, an unparsable number, an
employee without a mobile, and one employee whose local time is night for most UTC runs.
"""

from __future__ import annotations

from datetime import datetime

from bridge.models import Sender
from bridge.store import Store

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

# (id, name, mobile, time zone, email, manager id)
DEMO_EMPLOYEES: tuple[tuple[int, str, str | None, str | None, str, int | None], ...] = (
    (1001, "Dana Whitfield", "+14155550101", "America/Los_Angeles", "dana@example.com", None),
    (1002, "Ravi Menon", "+14155550102", "America/Los_Angeles", "ravi@example.com", 1001),
    (1003, "Lucie Martin", "+33612345678", "Europe/Paris", "lucie@example.com", 1001),
    (1004, "Tomás Ibarra", "+525512345678", "America/Mexico_City", "tomas@example.com", 1001),
    (1005, "Hannah Becker", "+4915123456789", "Europe/Berlin", "hannah@example.com", 1006),
    (1006, "Kenji Sato", "+819012345678", "Asia/Tokyo", "kenji@example.com", None),
    (1007, "Priya Nair", "+61412345678", None, "priya@example.com", 1006),  # zone from number
    (1008, "Front Desk (landline)", "+442071838750", "Europe/London", "desk@example.com", 1001),
    (1009, "Sam Typo", "12345", None, "sam@example.com", 1001),  # unparsable
    (1010, "Alex Nomobile", None, None, "alex@example.com", 1001),
)


def seed(store: Store, now: datetime) -> None:
    for sender in DEMO_SENDERS:
        store.save_sender(sender, now)
    with store.dialect.transaction("seed") as tx:
        tx.execute("UPDATE hr_demo_employees SET manager_id = NULL")
        tx.execute("DELETE FROM hr_demo_employees")
        # Managers are set in a second pass: the foreign key needs them to exist first.
        for emp_id, name, mobile, tz, email, _manager in DEMO_EMPLOYEES:
            tx.execute(
                "INSERT INTO hr_demo_employees (employee_id, full_name, mobile_number, time_zone,"
                " email, manager_id) VALUES (:id, :name, :mobile, :tz, :email, NULL)",
                {"id": emp_id, "name": name, "mobile": mobile, "tz": tz, "email": email},
            )
        for emp_id, *_rest, manager in DEMO_EMPLOYEES:
            if manager is not None:
                tx.execute(
                    "UPDATE hr_demo_employees SET manager_id = :manager WHERE employee_id = :id",
                    {"manager": manager, "id": emp_id},
                )
