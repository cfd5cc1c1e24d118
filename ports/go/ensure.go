package entitlement

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
)

// DefaultRequestTimeout bounds each RegisterUsage attempt, so a hung connection is retried long before the deadline.
const DefaultRequestTimeout = 10 * time.Second

// MaxPublicKeyVersion is the largest key version RegisterUsage takes (a 32-bit integer).
const MaxPublicKeyVersion = 2147483647

var (
	productCodePattern = regexp.MustCompile(`^[-a-zA-Z0-9/=:_.@]{1,255}$`)
	regionPattern      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
)

// Options configure EnsureEntitled.
type Options struct {
	// ProductCode is the product code from the AWS Marketplace Management Portal.
	ProductCode string
	// PublicKeyPEM is the public key AWS issued for this product and PublicKeyVersion. There is no default.
	PublicKeyPEM []byte
	// PublicKeyVersion is the version of the key. Default (0): 1.
	PublicKeyVersion int
	// Region is the task's or pod's own Region. Default: the SDK's (AWS_REGION, AWS_DEFAULT_REGION, the shared
	// config profile). Never assumed.
	Region string
	// Endpoint overrides the Metering endpoint, e.g. the emulator's URL. Default: AWS's.
	Endpoint string
	// TLSRoots is the trust for the TLS connection: TLSRootsAWS (default), TLSRootsSystem, or a PEM bundle path.
	TLSRoots string
	// Credentials replaces the SDK's default credential chain (IRSA on EKS, the task role on ECS).
	Credentials aws.CredentialsProvider
	// Deadline is the total retry budget. Default DefaultDeadline (30 minutes).
	Deadline time.Duration
	// Retry is the backoff of the retry loop. Default DefaultRetryPolicy.
	Retry RetryPolicy
	// RequestTimeout bounds each attempt. Default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// ClockTolerance and MaxTokenAge, when set, bound the token's iat (see VerifyOptions). Default: advisory.
	ClockTolerance *time.Duration
	MaxTokenAge    *time.Duration
	// Logf receives retries and warnings. Default: the standard logger.
	Logf func(format string, args ...any)
}

// Entitlement is a verified registration.
type Entitlement struct {
	ProductCode      string
	PublicKeyVersion int
	// Nonce is the nonce sent and found again in the signed answer.
	Nonce string
	// IssuedAt is AWS's iat, or when the answer arrived if the token has no usable iat (see IssuedAtSource).
	IssuedAt       time.Time
	IssuedAtSource IssuedAtSource
	// Registration is the AWS JWT, verbatim.
	Registration string
	// PublicKeyRotationTimestamp is set when AWS says PublicKeyVersion has expired: rotate to the new key.
	PublicKeyRotationTimestamp *time.Time
	// Attempts is the number of RegisterUsage calls made, retries included.
	Attempts int
	// Region is the Region the call went to.
	Region string
}

// NewNonce is a nonce from the CSPRNG: 256 bits, 43 base64url characters (RegisterUsage allows 255).
func NewNonce() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("no randomness for the RegisterUsage nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// EnsureEntitled calls RegisterUsage with a fresh nonce, retrying throttling, 5xx and network failures with
// jittered backoff (RetryPolicy) until the deadline, and verifies the signed answer against the product key and
// everything that was sent. Configuration is checked before any network call. Every failure is an *Error.
// Cancelling ctx stops the retries (ABORTED).
func EnsureEntitled(ctx context.Context, opts Options) (*Entitlement, error) {
	logf := opts.Logf
	if logf == nil {
		logf = log.Printf
	}
	key, version, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	deadline := opts.Deadline
	if deadline == 0 {
		deadline = DefaultDeadline
	}
	if deadline < 0 {
		return nil, configurationError("INVALID_OPTION", "Deadline must be positive, got %s.", deadline)
	}
	policy, err := opts.Retry.resolve()
	if err != nil {
		return nil, err
	}
	client, region, err := meteringClient(ctx, opts)
	if err != nil {
		return nil, err
	}
	nonce, err := NewNonce()
	if err != nil {
		return nil, &Error{Class: Configuration, Code: "CLIENT_FAILURE", Message: err.Error(), Err: err}
	}
	input := &marketplacemetering.RegisterUsageInput{
		ProductCode:      aws.String(opts.ProductCode),
		PublicKeyVersion: aws.Int32(int32(version)),
		Nonce:            aws.String(nonce),
	}
	output, attempts, err := retryUntilDeadline(ctx, deadline, policy, "RegisterUsage",
		func(attemptCtx context.Context) (*marketplacemetering.RegisterUsageOutput, error) {
			return client.RegisterUsage(attemptCtx, input)
		},
		classifyAWSError,
		func(attempt int, delay time.Duration, err error) {
			logf("RegisterUsage attempt %d failed, retrying in %s: %v", attempt, delay, err)
		})
	if err != nil {
		return nil, err
	}
	claims, err := VerifyRegistration(aws.ToString(output.Signature), VerifyOptions{
		Key: key, ProductCode: opts.ProductCode, PublicKeyVersion: version, Nonce: nonce,
		ClockTolerance: opts.ClockTolerance, MaxTokenAge: opts.MaxTokenAge,
	})
	if err != nil {
		return nil, err
	}
	if output.PublicKeyRotationTimestamp != nil {
		logf("AWS reports that public key version %d expired at %s: configure the newer key and its version "+
			"from the AWS Marketplace Management Portal.", version, output.PublicKeyRotationTimestamp.UTC().Format(time.RFC3339))
	}
	return &Entitlement{
		ProductCode:                claims.ProductCode,
		PublicKeyVersion:           claims.PublicKeyVersion,
		Nonce:                      claims.Nonce,
		IssuedAt:                   claims.IssuedAt,
		IssuedAtSource:             claims.IssuedAtSource,
		Registration:               aws.ToString(output.Signature),
		PublicKeyRotationTimestamp: output.PublicKeyRotationTimestamp,
		Attempts:                   attempts,
		Region:                     region,
	}, nil
}

func checkOptions(opts Options) (*ProductKey, int, error) {
	if !productCodePattern.MatchString(opts.ProductCode) {
		return nil, 0, configurationError("INVALID_PRODUCT_CODE",
			"Product code %q is not valid: 1-255 characters of letters, digits and -/=:_.@. "+
				"Copy it from the AWS Marketplace Management Portal.", opts.ProductCode)
	}
	version := opts.PublicKeyVersion
	if version == 0 {
		version = 1
	}
	if version < 1 || version > MaxPublicKeyVersion {
		return nil, 0, configurationError("INVALID_PUBLIC_KEY_VERSION",
			"Public key version %d is not valid: a whole number from 1 to %d (RegisterUsage takes a 32-bit integer), "+
				"as shown beside the key in the Management Portal.", opts.PublicKeyVersion, MaxPublicKeyVersion)
	}
	if err := checkDurations(opts.ClockTolerance, opts.MaxTokenAge); err != nil {
		return nil, 0, err
	}
	key, err := LoadProductPublicKey(opts.PublicKeyPEM)
	if err != nil {
		return nil, 0, err
	}
	return key, version, nil
}

// meteringClient builds the SDK client: endpoint checked, Region found (never assumed), TLS trust pinned,
// the SDK's own retries off (the loop above owns them: deadline and jitter in one place).
func meteringClient(ctx context.Context, opts Options) (*marketplacemetering.Client, string, error) {
	if opts.Endpoint != "" {
		endpoint, err := url.Parse(opts.Endpoint)
		if err != nil || (endpoint.Scheme != "http" && endpoint.Scheme != "https") || endpoint.Host == "" {
			return nil, "", configurationError("INVALID_OPTION",
				"The endpoint %q is not an http(s) URL. Give the emulator's URL (e.g. http://127.0.0.1:8443), "+
					"or leave the endpoint out to use AWS.", opts.Endpoint)
		}
	}
	roots, err := rootPool(opts.TLSRoots)
	if err != nil {
		return nil, "", err
	}
	requestTimeout := opts.RequestTimeout
	if requestTimeout <= 0 {
		requestTimeout = DefaultRequestTimeout
	}
	loadOptions := []func(*config.LoadOptions) error{config.WithHTTPClient(newPinnedClient(roots, requestTimeout))}
	if opts.Region != "" {
		loadOptions = append(loadOptions, config.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		loadOptions = append(loadOptions, config.WithCredentialsProvider(opts.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOptions...)
	if err != nil {
		return nil, "", &Error{Class: Configuration, Code: "AWS_CONFIG", Err: err, Message: fmt.Sprintf(
			"The AWS SDK configuration could not be loaded (%v). AWS_CA_BUNDLE and a profile's ca_bundle are not "+
				"honoured: choose the TLS roots with TLSRoots / --tls-roots.", err)}
	}
	if cfg.Region == "" {
		return nil, "", configurationError("MISSING_REGION",
			"No AWS Region found: set --region / Options.Region or AWS_REGION to the Region this task or pod runs in. "+
				"Fargate and EKS with IRSA set AWS_REGION themselves; on ECS with EC2 set it in the task definition. "+
				"(Looked at: the option, AWS_REGION, AWS_DEFAULT_REGION, the shared config profile.)")
	}
	if !regionPattern.MatchString(cfg.Region) {
		return nil, "", configurationError("INVALID_REGION", "Region %q is not an AWS Region name like eu-west-1.", cfg.Region)
	}
	client := marketplacemetering.NewFromConfig(cfg, func(o *marketplacemetering.Options) {
		o.Retryer = aws.NopRetryer{}
		if opts.Endpoint != "" {
			o.EndpointResolver = marketplacemetering.EndpointResolverFromURL(opts.Endpoint)
		}
	})
	return client, cfg.Region, nil
}
