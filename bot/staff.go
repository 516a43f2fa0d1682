package bot

import (
	"strconv"
	"strings"
	"time"
)

// exportRef is the Ref of an export sent to an admin's private chat.
const exportRef = "export"

// maxExportDays bounds an export's range.
const maxExportDays = 366

// What /export exports: check-ins or tickets (Args "Kind" of its replies).
const (
	ExportCheckIns = "checkins"
	ExportTickets  = "tickets"
)

// dateLayout is how staff write dates.
const dateLayout = "2006-01-02"

// group handles a group chat: /help for anyone; /stats and /export only in a staff chat,
// where they count as staff commands without asking Telegram who the sender is.
func (r *Result) group(in Input) {
	switch {
	case in.Kind == KindResult && in.Staff && in.Data == exportRef && in.Text != "":
		r.send(MsgExportUndelivered, nil, nil)
	case in.Kind != KindCommand:
	case in.Command == "help":
		r.followLanguageCode(in.LanguageCode)
		if in.Staff {
			r.send(MsgHelpStaff, nil, nil)
			return
		}
		r.send(MsgHelpGroup, nil, nil)
	case !in.Staff:
	case in.Command == "stats":
		r.Replies = append(r.Replies, Reply{Kind: SendNew, Text: MsgStats, Fetch: FetchStats})
	case in.Command == "export":
		r.export(in)
	}
}

// export answers "/export checkins|tickets [from] [to]": the CSV goes to the admin's private chat,
// never into the group.
func (r *Result) export(in Input) {
	if !in.Admin || in.FromID == 0 {
		r.send(MsgExportAdminsOnly, nil, nil)
		return
	}
	f := strings.Fields(in.Args)
	if len(f) == 0 || (f[0] != ExportCheckIns && f[0] != ExportTickets) || len(f) > 3 {
		r.send(MsgExportUsage, nil, nil)
		return
	}
	today := time.Date(in.Now.Year(), in.Now.Month(), in.Now.Day(), 0, 0, 0, 0, in.Now.Location())
	to, from := today, today.AddDate(0, 0, -29)
	var err error
	if len(f) >= 2 {
		if from, err = time.ParseInLocation(dateLayout, f[1], in.Now.Location()); err != nil {
			r.send(MsgExportBadDate, map[string]string{"Date": quote(f[1])}, nil)
			return
		}
		to = today
	}
	if len(f) == 3 {
		if to, err = time.ParseInLocation(dateLayout, f[2], in.Now.Location()); err != nil {
			r.send(MsgExportBadDate, map[string]string{"Date": quote(f[2])}, nil)
			return
		}
	}
	if to.Before(from) || to.Sub(from) > maxExportDays*24*time.Hour {
		r.send(MsgExportBadRange, map[string]string{"Max": strconv.Itoa(maxExportDays)}, nil)
		return
	}
	args := map[string]string{"From": from.Format(dateLayout), "To": to.Format(dateLayout), "Kind": f[0]}
	r.Replies = append(r.Replies,
		Reply{Kind: SendDocument, Text: MsgExportCaption, Args: args, To: in.FromID, Fetch: FetchExport, Ref: exportRef},
		Reply{Kind: SendNew, Text: MsgExportSent, Args: map[string]string{"Name": in.Name, "From": args["From"], "To": args["To"], "Kind": f[0]}},
	)
}
