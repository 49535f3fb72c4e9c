package media

import (
	"testing"
	"time"
)

func BenchmarkEncodeULaw(b *testing.B) {
	src := sine(FrameSamples, SampleRate, 1000, 12000)
	dst := make([]byte, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = EncodeULaw(dst[:0], src)
	}
}

func BenchmarkDecodeULaw(b *testing.B) {
	src := EncodeULaw(nil, sine(FrameSamples, SampleRate, 1000, 12000))
	dst := make([]int16, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = DecodeULaw(dst[:0], src)
	}
}

func BenchmarkEncodeALaw(b *testing.B) {
	src := sine(FrameSamples, SampleRate, 1000, 12000)
	dst := make([]byte, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = EncodeALaw(dst[:0], src)
	}
}

func BenchmarkDecodeALaw(b *testing.B) {
	src := EncodeALaw(nil, sine(FrameSamples, SampleRate, 1000, 12000))
	dst := make([]int16, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = DecodeALaw(dst[:0], src)
	}
}

// BenchmarkDTMFDetector is the cost per 20 ms frame, over a signal that
// mixes key presses, speech-like tones and silence.
func BenchmarkDTMFDetector(b *testing.B) {
	sig := joinPCM(GenerateDTMF('5', 100*time.Millisecond, 0.2), silence(100*time.Millisecond),
		GenerateTone([]float64{300, 900, 2100}, 200*time.Millisecond, 0.1), silence(100*time.Millisecond))
	d := NewDTMFDetector()
	frames := len(sig) / FrameSamples
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := i % frames
		d.Process(sig[f*FrameSamples : (f+1)*FrameSamples])
		i++
	}
}

// BenchmarkResample48kTo8k converts one second of 48 kHz audio.
func BenchmarkResample48kTo8k(b *testing.B) {
	src := sine(48000, 48000, 1000, 12000)
	r, err := NewResampler(48000, 8000)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]int16, 0, 8000)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Resample(dst[:0], src)
	}
}

// BenchmarkResample44kTo8k converts one second of 44.1 kHz audio.
func BenchmarkResample44kTo8k(b *testing.B) {
	src := sine(44100, 44100, 1000, 12000)
	b.ReportAllocs()
	for b.Loop() {
		Resample(src, 44100, 8000)
	}
}

// BenchmarkUpsampler2x is the cost per 20 ms frame at 8 kHz.
func BenchmarkUpsampler2x(b *testing.B) {
	src := sine(FrameSamples, SampleRate, 1000, 12000)
	dst := make([]int16, 0, 2*FrameSamples)
	var u Upsampler2x
	b.ReportAllocs()
	for b.Loop() {
		dst = u.Process(dst[:0], src)
	}
}

// BenchmarkActivityDetector is the cost per 20 ms frame.
func BenchmarkActivityDetector(b *testing.B) {
	src := sine(FrameSamples, SampleRate, 1000, 12000)
	a := NewActivityDetector()
	b.ReportAllocs()
	for b.Loop() {
		a.Process(src)
	}
}
