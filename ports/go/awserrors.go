package entitlement

import (
	"errors"
	"fmt"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

const roleHint = "Check the IAM role the container runs with: on EKS an IRSA role (ServiceAccount annotation eks.amazonaws.com/role-arn) " +
	"and on ECS the task role, allowing the aws-marketplace action being called (RegisterUsage: managed policy " +
	"AWSMarketplaceMeteringRegisterUsage; MeterUsage where usage is metered). " +
	"Node roles, EKS Pod Identity and long-term keys are not supported by AWS Marketplace."

// fatalAWSErrors maps RegisterUsage's modelled, non-retryable errors to typed errors (src/aws/aws-errors.ts).
var fatalAWSErrors = map[string]func(message string) *Error{
	"CustomerNotEntitledException": func(m string) *Error {
		return &Error{Class: NotEntitled, Code: "CUSTOMER_NOT_ENTITLED", Message: fmt.Sprintf(
			"AWS Marketplace says the account running this container is not subscribed to the product (%s). "+
				"Subscribe to the product in AWS Marketplace, or check the product code; the container must not serve until then.", m)}
	},
	"PlatformNotSupportedException": func(m string) *Error {
		return configurationError("PLATFORM_NOT_SUPPORTED",
			"AWS says this is not running on ECS, EKS or Fargate (%s). RegisterUsage only works there; "+
				"for local runs use the emulator (`marketplace-entitlement emulator`, then --endpoint).", m)
	},
	"InvalidProductCodeException": func(m string) *Error {
		return configurationError("INVALID_PRODUCT_CODE", "AWS does not know this product code (%s). Use the code from the AWS Marketplace Management Portal.", m)
	},
	"InvalidPublicKeyVersionException": func(m string) *Error {
		return configurationError("INVALID_PUBLIC_KEY_VERSION",
			"AWS rejects the public key version (%s). Use the version number shown next to the key in the AWS Marketplace Management Portal.", m)
	},
	"InvalidRegionException": func(m string) *Error {
		return configurationError("INVALID_REGION",
			"AWS says RegisterUsage was called in the wrong Region (%s). Call it in the Region the task or pod runs in: "+
				"do not hard-code the Region; let AWS_REGION supply it.", m)
	},
	"DisabledApiException": func(m string) *Error {
		return configurationError("DISABLED_API", "The Metering API is disabled for this call (%s).", m)
	},
}

// retryableAWSErrors are retried whatever their HTTP status.
var retryableAWSErrors = map[string]bool{"ThrottlingException": true, "InternalServiceErrorException": true}

// classifyAWSError says whether a failed RegisterUsage attempt ends the loop (the typed error) or is worth
// another attempt (nil): throttling, 5xx, 429 and network failures are retried; the modelled errors, any other
// 4xx and missing credentials are final. The same verdicts as classifyMeteringError (test/vectors/aws-errors.json).
func classifyAWSError(err error) *Error {
	var typed *Error
	if errors.As(err, &typed) {
		return typed
	}
	var signing *v4.SigningError
	if errors.As(err, &signing) {
		return &Error{Class: Configuration, Code: "NO_CREDENTIALS", Err: err,
			Message: fmt.Sprintf("No AWS credentials were found (%s). %s", signing.Err, roleHint)}
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return nil // network failure, timeout, unparseable answer
	}
	status := 0
	var response *awshttp.ResponseError
	if errors.As(err, &response) {
		status = response.HTTPStatusCode()
	}
	return classifyAWSErrorCode(api.ErrorCode(), strings.TrimRight(api.ErrorMessage(), "."), status, err)
}

func classifyAWSErrorCode(name, message string, status int, err error) *Error {
	if fatal, ok := fatalAWSErrors[name]; ok {
		typed := fatal(message)
		typed.Err = err
		return typed
	}
	if retryableAWSErrors[name] {
		return nil
	}
	if status >= 400 && status < 500 && status != 429 {
		return &Error{Class: Configuration, Code: "AWS_CLIENT_ERROR", Err: err,
			Message: fmt.Sprintf("AWS refused the call: %s: %s. %s", name, message, roleHint)}
	}
	return nil
}
