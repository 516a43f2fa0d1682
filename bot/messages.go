package bot

import (
	"slices"
	"strings"
)

// Message ids: the keys of the locale files that Step may return in a Reply or a Button.
const (
	MsgBackTo              = "back_to"
	MsgButtonAgree         = "button_agree"
	MsgButtonAllPoints     = "button_all_points"
	MsgButtonBack          = "button_back"
	MsgButtonBackToMenu    = "button_back_to_menu"
	MsgButtonCategory      = "button_category"
	MsgButtonCheckIn       = "button_checkin"
	MsgButtonDone          = "button_done"
	MsgButtonEdit          = "button_edit"
	MsgButtonForMyRole     = "button_for_my_role"
	MsgButtonForget        = "button_forget"
	MsgButtonForgetNo      = "button_forget_no"
	MsgButtonForgetYes     = "button_forget_yes"
	MsgButtonHelp          = "button_help"
	MsgButtonHelpful       = "button_helpful"
	MsgButtonHistory       = "button_history"
	MsgButtonLang          = "button_lang"
	MsgButtonLocDrop       = "button_loc_drop"
	MsgButtonLocKeep       = "button_loc_keep"
	MsgButtonMe            = "button_me"
	MsgButtonMenu          = "button_menu"
	MsgButtonNext          = "button_next"
	MsgButtonNo            = "button_no"
	MsgButtonNotHelpful    = "button_not_helpful"
	MsgButtonNotNow        = "button_not_now"
	MsgButtonOptional      = "button_optional"
	MsgButtonPoint         = "button_point"
	MsgButtonPointList     = "button_point_list"
	MsgButtonPointNear     = "button_point_near"
	MsgButtonPolicies      = "button_policies"
	MsgButtonPolicy        = "button_policy"
	MsgButtonPolicyTitle   = "button_policy_title"
	MsgButtonPrev          = "button_prev"
	MsgButtonRegister      = "button_register"
	MsgButtonShareLocation = "button_share_location"
	MsgButtonSharePhone    = "button_share_phone"
	MsgButtonSkip          = "button_skip"
	MsgButtonSubOff        = "button_sub_off"
	MsgButtonSubOn         = "button_sub_on"
	MsgButtonSubscribe     = "button_subscribe"
	MsgButtonUseName       = "button_use_name"
	MsgButtonYes           = "button_yes"
	MsgCancelled           = "cancelled"
	MsgCheckInAgain        = "checkin_again"
	MsgCheckInDone         = "checkin_done"
	MsgCheckInHow          = "checkin_how"
	MsgConsentDeclined     = "consent_declined"
	MsgConsentThanks       = "consent_thanks"
	MsgEditPick            = "edit_pick"
	MsgExpired             = "expired"
	MsgExportAdminsOnly    = "export_admins_only"
	MsgExportBadDate       = "export_bad_date"
	MsgExportBadRange      = "export_bad_range"
	MsgExportCaption       = "export_caption"
	MsgExportSent          = "export_sent"
	MsgExportTooBig        = "export_too_big"
	MsgExportUndelivered   = "export_undelivered"
	MsgExportUsage         = "export_usage"
	MsgFeedbackThanks      = "feedback_thanks"
	MsgFieldInvalid        = "field_invalid"
	MsgFieldTooLong        = "field_too_long"
	MsgForgetConfirm       = "forget_confirm"
	MsgForgetKept          = "forget_kept"
	MsgForgetNothing       = "forget_nothing"
	MsgForgotten           = "forgotten"
	MsgHelp                = "help"
	MsgHelpGroup           = "help_group"
	MsgHelpStaff           = "help_staff"
	MsgHistory             = "history"
	MsgHistoryEmpty        = "history_empty"
	MsgHistoryItem         = "history_item"
	MsgLangNameEN          = "lang_name_en"
	MsgLangNameZH          = "lang_name_zh"
	MsgLangPick            = "lang_pick"
	MsgLangRetry           = "lang_retry"
	MsgLangSet             = "lang_set"
	MsgLocConsentAsk       = "loc_consent_ask"
	MsgLocDropped          = "loc_dropped"
	MsgLocKept             = "loc_kept"
	MsgMeCard              = "me_card"
	MsgMeUnregistered      = "me_unregistered"
	MsgMenu                = "menu"
	MsgNearest             = "nearest"
	MsgNearestItem         = "nearest_item"
	MsgNothingToCancel     = "nothing_to_cancel"
	MsgOptBranch           = "opt_branch"
	MsgOptDone             = "opt_done"
	MsgOptEmployer         = "opt_employer"
	MsgOptHome             = "opt_home"
	MsgOptParty            = "opt_party"
	MsgOptUseButtons       = "opt_use_buttons"
	MsgPointList           = "point_list"
	MsgPointUnknown        = "point_unknown"
	MsgPolicyCard          = "policy_card"
	MsgPolicyItem          = "policy_item"
	MsgPolicyList          = "policy_list"
	MsgPolicyListEmpty     = "policy_list_empty"
	MsgPolicyMaybe         = "policy_maybe"
	MsgPolicyMenu          = "policy_menu"
	MsgPolicyNone          = "policy_none"
	MsgPolicyResults       = "policy_results"
	MsgPrivacy             = "privacy"
	MsgPrivacyCheckIn      = "privacy_check_in"
	MsgRegDone             = "reg_done"
	MsgRegName             = "reg_name"
	MsgRegNameInvalid      = "reg_name_invalid"
	MsgRegNameRetry        = "reg_name_retry"
	MsgRegNameTooLong      = "reg_name_too_long"
	MsgRegPhone            = "reg_phone"
	MsgRegPhoneNotYours    = "reg_phone_not_yours"
	MsgRegPhoneRetry       = "reg_phone_retry"
	MsgRegRole             = "reg_role"
	MsgRegRoleRetry        = "reg_role_retry"
	MsgRegisterFirst       = "register_first"
	MsgRegisterOffer       = "register_offer"
	MsgSaved               = "saved"
	MsgStaleButton         = "stale_button"
	MsgStats               = "stats"
	MsgSubscribe           = "subscribe"
	MsgSubscribeSaved      = "subscribe_saved"
	MsgUnknown             = "unknown"
	MsgWelcome             = "welcome"
	MsgWelcomeBack         = "welcome_back"
)

// MessageIDs lists every message id Step can return, so that a test can check that each
// locale file has them all. The labels of roles, employers and /me fields are built from
// their names.
func MessageIDs() []string {
	ids := []string{
		MsgBackTo, MsgButtonAgree, MsgButtonAllPoints, MsgButtonBack, MsgButtonBackToMenu,
		MsgButtonCategory, MsgButtonCheckIn, MsgButtonDone, MsgButtonEdit, MsgButtonForMyRole,
		MsgButtonForget, MsgButtonForgetNo, MsgButtonForgetYes, MsgButtonHelp, MsgButtonHelpful,
		MsgButtonHistory, MsgButtonLang, MsgButtonLocDrop, MsgButtonLocKeep, MsgButtonMe,
		MsgButtonMenu, MsgButtonNext, MsgButtonNo, MsgButtonNotHelpful, MsgButtonNotNow,
		MsgButtonOptional, MsgButtonPoint, MsgButtonPointList, MsgButtonPointNear,
		MsgButtonPolicies, MsgButtonPolicy, MsgButtonPolicyTitle, MsgButtonPrev,
		MsgButtonRegister, MsgButtonShareLocation, MsgButtonSharePhone, MsgButtonSkip,
		MsgButtonSubOff, MsgButtonSubOn, MsgButtonSubscribe, MsgButtonUseName, MsgButtonYes,
		MsgCancelled, MsgCheckInAgain, MsgCheckInDone, MsgCheckInHow, MsgConsentDeclined,
		MsgConsentThanks, MsgEditPick, MsgExpired, MsgExportAdminsOnly, MsgExportBadDate,
		MsgExportBadRange, MsgExportCaption, MsgExportSent, MsgExportTooBig, MsgExportUndelivered,
		MsgExportUsage, MsgFeedbackThanks, MsgFieldInvalid, MsgFieldTooLong, MsgForgetConfirm,
		MsgForgetKept, MsgForgetNothing, MsgForgotten, MsgHelp, MsgHelpGroup, MsgHelpStaff,
		MsgHistory, MsgHistoryEmpty, MsgHistoryItem, MsgLangNameEN, MsgLangNameZH, MsgLangPick,
		MsgLangRetry, MsgLangSet, MsgLocConsentAsk, MsgLocDropped, MsgLocKept, MsgMeCard,
		MsgMeUnregistered, MsgMenu, MsgNearest, MsgNearestItem, MsgNothingToCancel, MsgOptBranch,
		MsgOptDone, MsgOptEmployer, MsgOptHome, MsgOptParty, MsgOptUseButtons, MsgPointList,
		MsgPointUnknown, MsgPolicyCard, MsgPolicyItem, MsgPolicyList, MsgPolicyListEmpty,
		MsgPolicyMaybe, MsgPolicyMenu, MsgPolicyNone, MsgPolicyResults, MsgPrivacy,
		MsgPrivacyCheckIn, MsgRegDone, MsgRegName, MsgRegNameInvalid, MsgRegNameRetry,
		MsgRegNameTooLong, MsgRegPhone, MsgRegPhoneNotYours, MsgRegPhoneRetry, MsgRegRole,
		MsgRegRoleRetry, MsgRegisterFirst, MsgRegisterOffer, MsgSaved, MsgStaleButton, MsgStats,
		MsgSubscribe, MsgSubscribeSaved, MsgUnknown, MsgWelcome, MsgWelcomeBack,
	}
	ids = append(ids, ticketMessageIDs...)
	ids = append(ids, broadcastMessageIDs...)
	for _, r := range Roles {
		ids = append(ids, roleLabel(r))
	}
	for _, e := range Employers {
		ids = append(ids, "employer_"+e)
	}
	for _, f := range editable {
		ids = append(ids, "field_"+f)
	}
	slices.Sort(ids)
	return ids
}

// Commands lists the commands Step understands in private chats, in the order a command
// menu shows them. Their descriptions are the message ids "command_" + name.
func Commands() []string {
	return []string{"start", "policy", "request", "mytickets", "checkin", "me", "subscribe", "help", "lang", "cancel", "forgetme"}
}

// StaffCommands lists the commands of the staff chat, for its own command menu.
func StaffCommands() []string {
	return []string{"queue", "close", "broadcast", "stats", "export", "help"}
}

// Supported languages, as BCP 47 tags.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// GuessLang picks the first language from Telegram's language_code. Chinese codes (zh,
// zh-hans, zh-TW…) and an empty code give zh-CN: the district serves a Chinese city, and
// Telegram omits the code for some clients. Any other code gives English, which a
// non-Chinese speaker is more likely to read.
func GuessLang(code string) string {
	if code == "" || strings.HasPrefix(strings.ToLower(code), "zh") {
		return LangZH
	}
	return LangEN
}
