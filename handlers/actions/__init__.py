"""Card buttons, escalation buttons, and the menus inside modals."""

from slack_bolt import App

from bot.slack.ids import Action
from handlers.actions.compose import open_move_to_dm, open_reply, open_reply_dm, pick_saved_reply
from handlers.actions.escalation import escalation_ack, escalation_resolve, location_menu, open_escalate
from handlers.actions.history import open_history
from handlers.actions.incidents import open_bulk_reply, open_status, stop_bulk_reply
from handlers.actions.lifecycle import reopen, resolve, resolve_no_survey
from handlers.actions.ownership import claim, reassign, unclaim
from handlers.actions.review import approve_draft, open_edit_draft, open_send_back


def register(app: App) -> None:
    app.action(Action.CLAIM)(claim)
    app.action(Action.UNCLAIM)(unclaim)
    app.action(Action.REASSIGN)(reassign)
    app.action(Action.REPLY)(open_reply)
    app.action(Action.MOVE_TO_DM)(open_move_to_dm)
    app.action(Action.REPLY_DM)(open_reply_dm)
    app.action(Action.RESOLVE)(resolve)
    app.action(Action.RESOLVE_NO_SURVEY)(resolve_no_survey)
    app.action(Action.REOPEN)(reopen)
    app.action(Action.ESCALATE)(open_escalate)
    app.action(Action.ESCALATION_ACK)(escalation_ack)
    app.action(Action.ESCALATION_RESOLVE)(escalation_resolve)
    app.options(Action.LOCATION)(location_menu)
    app.action(Action.SAVED_REPLY_PICK)(pick_saved_reply)
    app.action(Action.INCIDENT_STATUS)(open_status)
    app.action(Action.INCIDENT_BULK_REPLY)(open_bulk_reply)
    app.action(Action.INCIDENT_BULK_STOP)(stop_bulk_reply)
    app.action(Action.DRAFT_APPROVE)(approve_draft)
    app.action(Action.DRAFT_EDIT)(open_edit_draft)
    app.action(Action.DRAFT_SEND_BACK)(open_send_back)
    app.action(Action.HISTORY)(open_history)
