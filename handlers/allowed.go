package handlers

// AllowedUpdates names every update kind the handlers act on. setWebhook and getUpdates
// send it explicitly, because Telegram otherwise keeps whatever list was set before.
var AllowedUpdates = []string{"message", "callback_query", "inline_query", "my_chat_member"}
