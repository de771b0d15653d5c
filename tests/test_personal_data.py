"""Detection of personal data in comments (consult.consultation.personal_data): made-up
numbers in the region's real formats, with valid check digits where the format has one;
none is a real person's."""

from __future__ import annotations

import pytest

from consult.consultation.personal_data import (
    detect,
    mask,
    nric_valid,
    thai_id_valid,
)


def found(text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in detect(text)]


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("Write to somchai.k@example.org today.", "email", "somchai.k@example.org"),
        (
            "Contact: nguyen_van.an+aipa@mail.example.vn.",
            "email",
            "nguyen_van.an+aipa@mail.example.vn",
        ),
        # International numbers of the ten ASEAN country codes.
        ("Call +62 812-3456-7890 in Jakarta.", "phone", "+62 812-3456-7890"),
        ("Office +60 3-2161 2345 (KL).", "phone", "+60 3-2161 2345"),
        ("Mobile +63 917 123 4567.", "phone", "+63 917 123 4567"),
        ("Bangkok +66 2 123 4567.", "phone", "+66 2 123 4567"),
        ("Hanoi +84 24 3825 1234.", "phone", "+84 24 3825 1234"),
        ("Phnom Penh +855 12 345 678.", "phone", "+855 12 345 678"),
        ("Vientiane +856 20 5512 3456.", "phone", "+856 20 5512 3456"),
        ("Yangon +95 9 123 456 789.", "phone", "+95 9 123 456 789"),
        ("Singapore +65 6123 4567.", "phone", "+65 6123 4567"),
        ("Bandar Seri Begawan +673 712 3456.", "phone", "+673 712 3456"),
        ("From abroad 0066 81 234 5678.", "phone", "0066 81 234 5678"),
        # National formats.
        ("Her mobile is 081-234-5678.", "phone", "081-234-5678"),
        ("Ring 0812 3456 7890 after five.", "phone", "0812 3456 7890"),
        ("Manila office (02) 8123 4567.", "phone", "(02) 8123 4567"),
        ("Text 09171234567 please.", "phone", "09171234567"),
        ("In Singapore: 9123 4567.", "phone", "9123 4567"),
        # Identity numbers with their check digits.
        ("Thai ID 3-1004-00123-45-6 on file.", "national_id", "3-1004-00123-45-6"),
        ("ID 3100400123456.", "national_id", "3100400123456"),
        ("NRIC S1234567D attached.", "national_id", "S1234567D"),
        ("FIN M1234567K attached.", "national_id", "M1234567K"),
        ("MyKad 850715-14-5123 attached.", "national_id", "850715-14-5123"),
        ("NIK 3174055507850001 attached.", "national_id", "3174055507850001"),
        # Street addresses when clear.
        ("We meet at 123 Orchard Road every month.", "address", "123 Orchard Road"),
        ("Our office: No. 12 Jalan Ampang, Kuala Lumpur.", "address", "No. 12 Jalan Ampang"),
        ("Visit Jl. Sudirman No. 5, Jakarta.", "address", "Jl. Sudirman No. 5"),
        ("Write to 45/2 Soi Sukhumvit 21, Bangkok.", "address", "45/2 Soi Sukhumvit 21"),
    ],
)
def test_detects(text, kind, value):
    assert (kind, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Article 12 of the 2025 framework, paragraph 3.4.1, applies from 2026-01-01.",
        "A budget of 1,250,000 USD for 2026–2030 (reference 2026/12/345).",
        "Resolution 44/2023 and sections 10 to 15; see page 123.",
        "The 1 Road map to 2030 names 12 goals.",
        "Thai ID 3-1004-00123-45-7 is not valid (wrong check digit).",
        "NRIC S1234567A has the wrong check letter.",
        "MyKad 851315-14-5123 has no 13th month.",
        "An e-mail address like name@ with no domain is not one.",
    ],
)
def test_leaves_policy_text_alone(text):
    assert found(text) == []


def test_check_digits():
    assert thai_id_valid("3100400123456") and not thai_id_valid("3100400123457")
    assert thai_id_valid("1101700203450")
    assert nric_valid("S1234567D") and nric_valid("M1234567K")
    assert not nric_valid("S1234567J") and not nric_valid("M1234567L")


def test_overlap_prefers_the_identity_number():
    # A 13-digit Thai ID must not also be read as a phone number.
    assert found("Card 3 1004 00123 45 6.") == [("national_id", "3 1004 00123 45 6")]


def test_mask_replaces_each_span(app):
    text = "Mail a.b@example.org or call +66 81 234 5678."
    with app.test_request_context():
        assert mask(text, detect(text)) == "Mail [e-mail removed] or call [phone number removed]."


def test_code_is_not_personal_data():
    """Identifiers and examples in code spans and blocks are not people's numbers; the
    same number in prose is (offsets stay those of the text as written)."""
    from consult.consultation.personal_data import detect

    assert detect('**Example** | `{"PrimaryITInvestmentUII":"023-000000001"}`') == []
    assert detect("```\ncall 0812-3456-7890\n```") == []
    text = "Example `x = 1`; call 0812-3456-7890."
    [found] = detect(text)
    assert text[found.start : found.end] == "0812-3456-7890" and found.kind == "phone"
