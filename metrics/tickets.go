package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The service desk's figures, counted by the replica that handles the staff group's
// updates. A handler run again after a crash before its commit counts twice: these are
// operational figures; /stats reads the committed ones.
var (
	// TicketsOpened and TicketsClosed count tickets by request category.
	TicketsOpened = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "bangban_tickets_opened_total",
		Help: "Service-request tickets opened, by category.",
	}, []string{"category"})
	TicketsClosed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "bangban_tickets_closed_total",
		Help: "Service-request tickets closed, by category.",
	}, []string{"category"})
	// TicketFirstResponse and TicketResolution time tickets from opening to the first staff
	// answer and to closing.
	TicketFirstResponse = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "bangban_ticket_first_response_seconds",
		Help:    "Time from a ticket's opening to the first staff answer.",
		Buckets: []float64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600},
	})
	TicketResolution = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "bangban_ticket_resolution_seconds",
		Help:    "Time from a ticket's opening to its closing.",
		Buckets: []float64{300, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600},
	})
	// TicketRatings are the users' ratings (1–5).
	TicketRatings = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "bangban_ticket_rating",
		Help:    "Ratings users gave closed tickets (1-5).",
		Buckets: []float64{1, 2, 3, 4, 5},
	})
)
