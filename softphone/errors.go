package softphone

import "errors"

// Sentinel errors of the softphone. A failed call's error wraps one of them
// (or a *sip.StatusError when the far end refused the call).
var (
	// ErrScript reports a script that cannot be run; the wrapping error
	// names the file and line.
	ErrScript = errors.New("softphone: bad script")
	// ErrConfig reports a Config that cannot be used.
	ErrConfig = errors.New("softphone: bad config")
	// ErrSetupTimeout reports a call not answered within Config.SetupTimeout.
	ErrSetupTimeout = errors.New("time-out waiting for answer")
	// ErrNoRTP reports that no RTP arrived within Config.NoRTPTimeout after the answer.
	ErrNoRTP = errors.New("no RTP received from the far end")
	// ErrRTPStopped reports that RTP from the far end stopped mid-call.
	ErrRTPStopped = errors.New("RTP from the far end stopped")
	// ErrSilenceTimeout reports a wait-silence step that timed out.
	ErrSilenceTimeout = errors.New("wait-silence timed out")
	// ErrNoTelephoneEvent reports a dtmf step when the far end did not
	// accept telephone-event (use in-band DTMF instead).
	ErrNoTelephoneEvent = errors.New("far end accepted no telephone-event (RFC 4733)")
	// ErrBadAnswer reports an SDP answer we cannot use.
	ErrBadAnswer = errors.New("unusable SDP answer")
	// ErrInterrupted reports a call ended because the run was cancelled.
	ErrInterrupted = errors.New("interrupted")
)
