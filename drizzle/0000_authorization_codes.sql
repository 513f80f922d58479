CREATE TABLE "attesto_authorization_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"subject" text NOT NULL,
	"redirect_uri" text NOT NULL,
	"scope" text[] NOT NULL,
	"resource" text[] NOT NULL,
	"code_challenge" text NOT NULL,
	"code_challenge_method" text NOT NULL,
	"dpop_jkt" text,
	"nonce" text,
	"claims" jsonb NOT NULL,
	"family_id" text,
	"expires_at" timestamp with time zone NOT NULL,
	"inserted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"consumed_at" timestamp with time zone,
	"consumed_success" boolean DEFAULT false NOT NULL,
	"access_token_jti" text,
	"access_token_expires_at" timestamp with time zone,
	"access_token_revoked_at" timestamp with time zone,
	CONSTRAINT "attesto_authorization_codes_code_challenge_method_check" CHECK ("attesto_authorization_codes"."code_challenge_method" = 'S256')
);
--> statement-breakpoint
CREATE INDEX "attesto_authorization_codes_family_id_idx" ON "attesto_authorization_codes" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "attesto_authorization_codes_access_token_jti_idx" ON "attesto_authorization_codes" USING btree ("access_token_jti");--> statement-breakpoint
CREATE INDEX "attesto_authorization_codes_expires_at_idx" ON "attesto_authorization_codes" USING btree ("expires_at");