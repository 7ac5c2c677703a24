"""Card buttons, escalation buttons, and the menus inside modals."""

from slack_bolt import App

from handlers.actions.compose import open_move_to_dm, open_reply, pick_saved_reply
from handlers.actions.escalation import escalation_ack, escalation_resolve, location_menu, open_escalate
from handlers.actions.incidents import open_bulk_reply, open_status, stop_bulk_reply
from handlers.actions.lifecycle import reopen, resolve
from handlers.actions.ownership import claim, reassign, unclaim

CARD_ACTIONS = ("claim", "reply", "move_to_dm", "escalate", "resolve", "unclaim", "reassign", "reopen")


def register(app: App) -> None:
    app.action("claim")(claim)
    app.action("unclaim")(unclaim)
    app.action("reassign")(reassign)
    app.action("reply")(open_reply)
    app.action("move_to_dm")(open_move_to_dm)
    app.action("resolve")(resolve)
    app.action("reopen")(reopen)
    app.action("escalate")(open_escalate)
    app.action("escalation_ack")(escalation_ack)
    app.action("escalation_resolve")(escalation_resolve)
    app.options("location")(location_menu)
    app.action("saved_reply_pick")(pick_saved_reply)
    app.action("incident_status")(open_status)
    app.action("incident_bulk_reply")(open_bulk_reply)
    app.action("incident_bulk_stop")(stop_bulk_reply)
