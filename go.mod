module github.com/supportline/ivr

go 1.26.8
