"""Modal submissions: Reply, Move to DM, Escalate, an escalation's Done, a surge incident's forms, and the
personal-data check pushed over Reply and a status update."""

from slack_bolt import App

from bot.slack.ids import View
from handlers.views.escalation import submit_escalate, submit_outcome
from handlers.views.history import submit_note
from handlers.views.incidents import submit_bulk_reply, submit_status, submit_status_anyway
from handlers.views.resolve import submit_resolve
from handlers.views.review import submit_edited_draft, submit_send_back
from handlers.views.send import submit_move_to_dm, submit_personal_data, submit_reply, submit_reply_dm


def register(app: App) -> None:
    app.view(View.REPLY)(submit_reply)
    app.view(View.MOVE_TO_DM)(submit_move_to_dm)
    app.view(View.REPLY_DM)(submit_reply_dm)
    app.view(View.PERSONAL_DATA)(submit_personal_data)
    app.view(View.ESCALATE)(submit_escalate)
    app.view(View.ESCALATION_OUTCOME)(submit_outcome)
    app.view(View.INCIDENT_STATUS)(submit_status)
    app.view(View.INCIDENT_BULK_REPLY)(submit_bulk_reply)
    app.view(View.PERSONAL_DATA_STATUS)(submit_status_anyway)
    app.view(View.RESOLVE)(submit_resolve)
    app.view(View.DRAFT_EDIT)(submit_edited_draft)
    app.view(View.DRAFT_SEND_BACK)(submit_send_back)
    app.view(View.HISTORY)(submit_note)
