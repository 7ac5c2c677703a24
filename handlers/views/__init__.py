"""Modal submissions: Reply, Move to DM, Escalate, an escalation's Done, and a surge incident's forms."""

from slack_bolt import App

from handlers.views.escalation import submit_escalate, submit_outcome
from handlers.views.incidents import submit_bulk_reply, submit_status
from handlers.views.send import submit_move_to_dm, submit_reply


def register(app: App) -> None:
    app.view("reply")(submit_reply)
    app.view("move_to_dm")(submit_move_to_dm)
    app.view("escalate")(submit_escalate)
    app.view("escalation_outcome")(submit_outcome)
    app.view("incident_status")(submit_status)
    app.view("incident_bulk_reply")(submit_bulk_reply)
