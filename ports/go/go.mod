module github.com/marketplace-entitlement/marketplace-entitlement/ports/go

go 1.19

require (
	github.com/aws/aws-sdk-go-v2 v1.17.1
	github.com/aws/aws-sdk-go-v2/config v1.17.10
	github.com/aws/aws-sdk-go-v2/service/marketplacemetering v1.13.21
	github.com/aws/smithy-go v1.13.3
)
