package bot

// sensitive reports whether the recording pauses during the step: a
// secret step, or one whose keys typed ahead may be a PIN.
func (st *step) sensitive() bool { return st.secret || st.typeAhead }

// setSensitive opens (on) or closes the sensitive window of the call: the
// recording is paused while the caller may be keying a PIN or card data.
// The window opens before a secret step's question (and before the words
// that lead to it, over which keys may be typed ahead; from the welcome
// on, as a caller who knows the line may key the PIN over it) and closes
// when the dialog moves to a step that is not sensitive (the account
// number of an unknown caller is not), or Run returns for any reason.
// Calls that do not record (no Sensitiver) ignore it.
func (b *Bot) setSensitive(on bool) {
	switch {
	case on && b.resume == nil:
		b.resume = func() {}
		if s, ok := b.call.(Sensitiver); ok {
			b.resume = s.Sensitive()
		}
		b.log.Debug("bot: sensitive window opened")
	case !on && b.resume != nil:
		b.resume()
		b.resume = nil
		b.log.Debug("bot: sensitive window closed")
	}
}
