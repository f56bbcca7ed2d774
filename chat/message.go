package chat

// Message is one chat message, as stored in the history and sent to clients.
type Message struct {
	ID   string `json:"id"`
	Room string `json:"room"`
	From string `json:"from"`
	Text string `json:"text"`
	Time int64  `json:"time"` // Unix milliseconds, server clock
}

// Private is a message from one user to another; it is not kept.
type Private struct {
	ID   string `json:"id"`
	From string `json:"from"`
	To   string `json:"to"`
	Text string `json:"text"`
	Time int64  `json:"time"`
}

// System is a line about the room itself: who joined, left, was renamed.
type System struct {
	Room string `json:"room"`
	Text string `json:"text"`
	Time int64  `json:"time"`
}
