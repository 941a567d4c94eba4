"""Retry back-off, delivery ids and the intake's mapping onto connector actions."""

from __future__ import annotations

from shared.integrations import catalog
from shared.integrations.deliveries import MAX_DELAY_SECONDS, backoff_seconds, delivery_id
from shared.integrations.intake import birth_date, intake_request
from shared.integrations.validation import param_problems

SESSION = {"id": "s1", "tenantId": "t1", "scenarioId": "healthcare-intake"}
INTAKE = {
    "fullName": "Maria Lopez",
    "dateOfBirth": "03/02/1984",
    "phone": "+1-555-0142",
    "memberId": "W123",
    "reasonForVisit": "cough",
    "ssnLast4": "1234",
}


def test_the_back_off_doubles_honours_retry_after_and_is_capped():
    assert [backoff_seconds(n, base=30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(1, base=30, retry_after=90.2) == 91
    assert backoff_seconds(2, base=30, retry_after=5) == 60
    assert backoff_seconds(20, base=30) == MAX_DELAY_SECONDS
    assert backoff_seconds(3, base=0) == 0


def test_a_delivery_id_is_stable_per_key_and_an_id():
    assert delivery_id("intake:s1:ehr") == delivery_id("intake:s1:ehr")
    assert delivery_id("intake:s1:ehr") != delivery_id("intake:s1:webhook")
    assert len(delivery_id("k")) == 32 and delivery_id("k").isalnum()


def test_birth_dates_are_read_in_the_usual_forms_only():
    assert birth_date("1984-03-02") == "1984-03-02"
    assert birth_date("03/02/1984") == "1984-03-02"
    assert birth_date("1984/03/02") == "1984-03-02"
    assert birth_date("the second of March") is None
    assert birth_date(None) is None


def test_the_ehr_gets_a_patient_that_fits_the_action_schema():
    action_id, params, preview = intake_request("ehr", SESSION, INTAKE)
    assert action_id == "create_patient"
    assert params == {"fullName": "Maria Lopez", "birthDate": "1984-03-02", "phone": "+1-555-0142"}
    assert param_problems(catalog.provider("fhir_r4").action("create_patient"), params) == []
    assert preview == {
        "event": "intake.completed",
        "fields": ["dateOfBirth", "fullName", "memberId", "phone", "reasonForVisit"],
    }


def test_the_webhook_gets_the_intake_event_with_the_patient_fields_only():
    action_id, params, _ = intake_request("webhook", SESSION, INTAKE)
    assert action_id == "send_event"
    assert params["event"] == "intake.completed"
    assert params["data"]["patient"] == {k: v for k, v in INTAKE.items() if k != "ssnLast4"}
    assert param_problems(catalog.provider("signed_webhook").action("send_event"), params) == []
