package bot

// Message ids of service requests and the staff desk.
const (
	MsgButtonAskStaff       = "button_ask_staff"
	MsgButtonCancelRequest  = "button_cancel_request"
	MsgButtonCanned         = "button_canned"
	MsgButtonCloseN         = "button_close_n"
	MsgButtonCloseTicket    = "button_close_ticket"
	MsgButtonFocusN         = "button_focus_n"
	MsgButtonMyTickets      = "button_my_tickets"
	MsgButtonReopen         = "button_reopen"
	MsgButtonReopenN        = "button_reopen_n"
	MsgButtonReqCategory    = "button_req_category"
	MsgButtonRequest        = "button_request"
	MsgButtonStars          = "button_stars"
	MsgButtonSubmit         = "button_submit"
	MsgButtonTake           = "button_take"
	MsgDeskAlreadyClosed    = "desk_already_closed"
	MsgDeskAnonymous        = "desk_anonymous"
	MsgDeskCannedSent       = "desk_canned_sent"
	MsgDeskCard             = "desk_card"
	MsgDeskClosed           = "desk_closed"
	MsgDeskClosedByUser     = "desk_closed_by_user"
	MsgDeskForgotten        = "desk_forgotten"
	MsgDeskMore             = "desk_more"
	MsgDeskNoUser           = "desk_no_user"
	MsgDeskQueue            = "desk_queue"
	MsgDeskQueueEmpty       = "desk_queue_empty"
	MsgDeskQueueItem        = "desk_queue_item"
	MsgDeskRated            = "desk_rated"
	MsgDeskRefused          = "desk_refused"
	MsgDeskReopened         = "desk_reopened"
	MsgDeskSLA              = "desk_sla"
	MsgDeskTakenToast       = "desk_taken_toast"
	MsgDeskTopic            = "desk_topic"
	MsgDeskUndelivered      = "desk_undelivered"
	MsgDeskYours            = "desk_yours"
	MsgMyTicketItem         = "my_ticket_item"
	MsgMyTickets            = "my_tickets"
	MsgMyTicketsEmpty       = "my_tickets_empty"
	MsgReqChosen            = "req_chosen"
	MsgReqCategory          = "req_category"
	MsgReqDescribe          = "req_describe"
	MsgReqEmpty             = "req_empty"
	MsgReqGot               = "req_got"
	MsgReqLimit             = "req_limit"
	MsgReqTooMany           = "req_too_many"
	MsgReqUnavailable       = "req_unavailable"
	MsgTicketAdded          = "ticket_added"
	MsgTicketAnswer         = "ticket_answer"
	MsgTicketAnswerCaption  = "ticket_answer_caption"
	MsgTicketCanned         = "ticket_canned"
	MsgTicketClosed         = "ticket_closed"
	MsgTicketClosedByYou    = "ticket_closed_by_you"
	MsgTicketFlood          = "ticket_flood"
	MsgTicketFocus          = "ticket_focus"
	MsgTicketLinkHeld       = "ticket_link_held"
	MsgTicketRated          = "ticket_rated"
	MsgTicketReceived       = "ticket_received"
	MsgTicketReceivedClosed = "ticket_received_closed"
	MsgTicketReopenExpired  = "ticket_reopen_expired"
	MsgTicketReopened       = "ticket_reopened"
	MsgTicketRepeat         = "ticket_repeat"
	MsgTicketTaken          = "ticket_taken"
	MsgTicketThanks         = "ticket_thanks"
)

// ticketMessageIDs lists them, for MessageIDs.
var ticketMessageIDs = []string{
	MsgButtonAskStaff, MsgButtonCancelRequest, MsgButtonCanned, MsgButtonCloseN, MsgButtonCloseTicket,
	MsgButtonFocusN, MsgButtonMyTickets, MsgButtonReopen, MsgButtonReopenN, MsgButtonReqCategory,
	MsgButtonRequest, MsgButtonStars, MsgButtonSubmit, MsgButtonTake, MsgDeskAlreadyClosed,
	MsgDeskAnonymous, MsgDeskCannedSent, MsgDeskCard, MsgDeskClosed, MsgDeskClosedByUser,
	MsgDeskForgotten, MsgDeskMore, MsgDeskNoUser, MsgDeskQueue, MsgDeskQueueEmpty, MsgDeskQueueItem,
	MsgDeskRated, MsgDeskRefused, MsgDeskReopened, MsgDeskSLA, MsgDeskTakenToast, MsgDeskTopic, MsgDeskUndelivered,
	MsgDeskYours, MsgMyTicketItem, MsgMyTickets, MsgMyTicketsEmpty, MsgReqChosen, MsgReqCategory,
	MsgReqDescribe, MsgReqEmpty, MsgReqGot, MsgReqLimit, MsgReqTooMany, MsgReqUnavailable, MsgTicketAdded,
	MsgTicketAnswer, MsgTicketAnswerCaption, MsgTicketCanned, MsgTicketClosed, MsgTicketClosedByYou,
	MsgTicketFlood, MsgTicketFocus, MsgTicketLinkHeld, MsgTicketRated, MsgTicketReceived,
	MsgTicketReceivedClosed, MsgTicketReopenExpired, MsgTicketReopened, MsgTicketRepeat,
	MsgTicketTaken, MsgTicketThanks,
}

// Message ids of broadcasts.
const (
	MsgBroadcastAdminsOnly   = "broadcast_admins_only"
	MsgBroadcastUsage        = "broadcast_usage"
	MsgBroadcastAudience     = "broadcast_audience"
	MsgBroadcastPick         = "broadcast_pick"
	MsgBroadcastPreview      = "broadcast_preview"
	MsgBroadcastCreating     = "broadcast_creating"
	MsgBroadcastAskTime      = "broadcast_ask_time"
	MsgBroadcastBadTime      = "broadcast_bad_time"
	MsgBroadcastCancelled    = "broadcast_cancelled"
	MsgBroadcastNoDraft      = "broadcast_no_draft"
	MsgBroadcastNotCreated   = "broadcast_not_created"
	MsgBroadcastProgress     = "broadcast_progress"
	MsgBroadcastReport       = "broadcast_report"
	MsgButtonBcRole          = "button_bc_role"
	MsgButtonBcPoint         = "button_bc_point"
	MsgButtonBcCategory      = "button_bc_category"
	MsgButtonBcLang          = "button_bc_lang"
	MsgButtonBcActive        = "button_bc_active"
	MsgButtonBcAll           = "button_bc_all"
	MsgButtonBcPreview       = "button_bc_preview"
	MsgButtonBcCancel        = "button_bc_cancel"
	MsgButtonBcRoleValue     = "button_bc_role_value"
	MsgButtonBcPointValue    = "button_bc_point_value"
	MsgButtonBcCategoryValue = "button_bc_category_value"
	MsgButtonBcLangValue     = "button_bc_lang_value"
	MsgButtonBcDaysValue     = "button_bc_days_value"
	MsgButtonBcBack          = "button_bc_back"
	MsgButtonBcSend          = "button_bc_send"
	MsgButtonBcSchedule      = "button_bc_schedule"
	MsgButtonBcPause         = "button_bc_pause"
	MsgButtonBcResume        = "button_bc_resume"
	MsgButtonBcStop          = "button_bc_stop"
	MsgNoticesOff            = "notices_off"
	MsgNoticesOffToast       = "notices_off_toast"
)

// broadcastMessageIDs lists them, for MessageIDs.
var broadcastMessageIDs = []string{
	MsgBroadcastAdminsOnly, MsgBroadcastUsage, MsgBroadcastAudience, MsgBroadcastPick,
	MsgBroadcastPreview, MsgBroadcastCreating, MsgBroadcastAskTime, MsgBroadcastBadTime,
	MsgBroadcastCancelled, MsgBroadcastNoDraft, MsgBroadcastNotCreated, MsgBroadcastProgress,
	MsgBroadcastReport, MsgButtonBcRole, MsgButtonBcPoint, MsgButtonBcCategory, MsgButtonBcLang,
	MsgButtonBcActive, MsgButtonBcAll, MsgButtonBcPreview, MsgButtonBcCancel, MsgButtonBcRoleValue,
	MsgButtonBcPointValue, MsgButtonBcCategoryValue, MsgButtonBcLangValue, MsgButtonBcDaysValue,
	MsgButtonBcBack, MsgButtonBcSend, MsgButtonBcSchedule, MsgButtonBcPause, MsgButtonBcResume,
	MsgButtonBcStop, MsgNoticesOff, MsgNoticesOffToast,
}
