export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {

  "public": {
          Tables: {
            "billing_overage_items": {
                  Row: {
                    "created_at": string,"item_id": string,"price_id": string,"subscription_id": string,"tenant_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"item_id": string,"price_id": string,"subscription_id": string,"tenant_id": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"item_id"?: string,"price_id"?: string,"subscription_id"?: string,"tenant_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "billing_overage_items_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: true
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"billing_overage_periods": {
                  Row: {
                    "billable_segments": number,"closed_at": string | null,"created_at": string,"offset_segments": number,"period_end": string,"period_start": string,"reported_segments": number,"tenant_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "billable_segments"?: number,"closed_at"?: string | null,"created_at"?: string,"offset_segments"?: number,"period_end": string,"period_start": string,"reported_segments"?: number,"tenant_id": string,"updated_at"?: string
                  }
                  Update: {
                    "billable_segments"?: number,"closed_at"?: string | null,"created_at"?: string,"offset_segments"?: number,"period_end"?: string,"period_start"?: string,"reported_segments"?: number,"tenant_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "billing_overage_periods_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"billing_overage_reports": {
                  Row: {
                    "attempts": number,"claim_token": string | null,"claimed_until": string | null,"created_at": string,"cumulative_segments": number,"event_timestamp": string,"id": string,"identifier": string,"last_error": string | null,"period_start": string,"segments": number,"sent_at": string | null,"status": string,"stripe_customer_id": string,"tenant_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"claim_token"?: string | null,"claimed_until"?: string | null,"created_at"?: string,"cumulative_segments": number,"event_timestamp": string,"id"?: string,"identifier": string,"last_error"?: string | null,"period_start": string,"segments": number,"sent_at"?: string | null,"status"?: string,"stripe_customer_id": string,"tenant_id": string
                  }
                  Update: {
                    "attempts"?: number,"claim_token"?: string | null,"claimed_until"?: string | null,"created_at"?: string,"cumulative_segments"?: number,"event_timestamp"?: string,"id"?: string,"identifier"?: string,"last_error"?: string | null,"period_start"?: string,"segments"?: number,"sent_at"?: string | null,"status"?: string,"stripe_customer_id"?: string,"tenant_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "billing_overage_reports_period_fkey"
      columns: ["tenant_id","period_start"]
isOneToOne: false
      referencedRelation: "billing_overage_periods"
      referencedColumns: ["tenant_id","period_start"]
    },{
      foreignKeyName: "billing_overage_reports_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"billing_usage_daily": {
                  Row: {
                    "ai_requests": number,"created_at": string,"day": string,"emails_sent": number,"event_count": number,"max_recorded_at": string | null,"mms_outbound": number,"ocr_pages": number,"sms_inbound": number,"sms_outbound_segments": number,"tenant_id": string,"updated_at": string,"voice_minutes_inbound": number,"voice_minutes_outbound": number
                  }
                  ComputedFields: never
                  Insert: {
                    "ai_requests"?: number,"created_at"?: string,"day": string,"emails_sent"?: number,"event_count"?: number,"max_recorded_at"?: string | null,"mms_outbound"?: number,"ocr_pages"?: number,"sms_inbound"?: number,"sms_outbound_segments"?: number,"tenant_id": string,"updated_at"?: string,"voice_minutes_inbound"?: number,"voice_minutes_outbound"?: number
                  }
                  Update: {
                    "ai_requests"?: number,"created_at"?: string,"day"?: string,"emails_sent"?: number,"event_count"?: number,"max_recorded_at"?: string | null,"mms_outbound"?: number,"ocr_pages"?: number,"sms_inbound"?: number,"sms_outbound_segments"?: number,"tenant_id"?: string,"updated_at"?: string,"voice_minutes_inbound"?: number,"voice_minutes_outbound"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "billing_usage_daily_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"consent_events": {
                  Row: {
                    "action": Database["public"]['Enums']["consent_action"],"created_at": string,"customer_id": string | null,"id": string,"occurred_at": string,"phone": string,"recorded_by": string | null,"source": Database["public"]['Enums']["consent_source"],"source_detail": string | null,"tenant_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "action": Database["public"]['Enums']["consent_action"],"created_at"?: string,"customer_id"?: string | null,"id"?: string,"occurred_at"?: string,"phone": string,"recorded_by"?: string | null,"source": Database["public"]['Enums']["consent_source"],"source_detail"?: string | null,"tenant_id": string
                  }
                  Update: {
                    "action"?: Database["public"]['Enums']["consent_action"],"created_at"?: string,"customer_id"?: string | null,"id"?: string,"occurred_at"?: string,"phone"?: string,"recorded_by"?: string | null,"source"?: Database["public"]['Enums']["consent_source"],"source_detail"?: string | null,"tenant_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "consent_events_customer_id_fkey"
      columns: ["customer_id"]
isOneToOne: false
      referencedRelation: "customers"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "consent_events_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"customers": {
                  Row: {
                    "archived_at": string | null,"created_at": string,"created_by": string | null,"email": string | null,"id": string,"name": string,"notes": string | null,"phone": string,"tenant_id": string,"updated_at": string,"vehicles": NonNullable<Json>
                  }
                  ComputedFields: never
                  Insert: {
                    "archived_at"?: string | null,"created_at"?: string,"created_by"?: string | null,"email"?: string | null,"id"?: string,"name": string,"notes"?: string | null,"phone": string,"tenant_id": string,"updated_at"?: string,"vehicles"?: NonNullable<Json>
                  }
                  Update: {
                    "archived_at"?: string | null,"created_at"?: string,"created_by"?: string | null,"email"?: string | null,"id"?: string,"name"?: string,"notes"?: string | null,"phone"?: string,"tenant_id"?: string,"updated_at"?: string,"vehicles"?: NonNullable<Json>
                  }
                  Relationships: [
                    {
      foreignKeyName: "customers_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"invitations": {
                  Row: {
                    "accepted_at": string | null,"accepted_by": string | null,"created_at": string,"email": string,"expires_at": string,"id": string,"invited_by": string | null,"revoked_at": string | null,"role": Database["public"]['Enums']["member_role"],"tenant_id": string,"token_hash": string
                  }
                  ComputedFields: never
                  Insert: {
                    "accepted_at"?: string | null,"accepted_by"?: string | null,"created_at"?: string,"email": string,"expires_at"?: string,"id"?: string,"invited_by"?: string | null,"revoked_at"?: string | null,"role": Database["public"]['Enums']["member_role"],"tenant_id": string,"token_hash": string
                  }
                  Update: {
                    "accepted_at"?: string | null,"accepted_by"?: string | null,"created_at"?: string,"email"?: string,"expires_at"?: string,"id"?: string,"invited_by"?: string | null,"revoked_at"?: string | null,"role"?: Database["public"]['Enums']["member_role"],"tenant_id"?: string,"token_hash"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "invitations_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"memberships": {
                  Row: {
                    "created_at": string,"role": Database["public"]['Enums']["member_role"],"tenant_id": string,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"role": Database["public"]['Enums']["member_role"],"tenant_id": string,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"role"?: Database["public"]['Enums']["member_role"],"tenant_id"?: string,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "memberships_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"message_status_events": {
                  Row: {
                    "account_sid": string | null,"error_code": number | null,"id": number,"idempotency_token": string | null,"message_sid": string,"raw": NonNullable<Json>,"received_at": string,"status": string
                  }
                  ComputedFields: never
                  Insert: {
                    "account_sid"?: string | null,"error_code"?: number | null,"id"?: never,"idempotency_token"?: string | null,"message_sid": string,"raw"?: NonNullable<Json>,"received_at"?: string,"status": string
                  }
                  Update: {
                    "account_sid"?: string | null,"error_code"?: number | null,"id"?: never,"idempotency_token"?: string | null,"message_sid"?: string,"raw"?: NonNullable<Json>,"received_at"?: string,"status"?: string
                  }
                  Relationships: [

                  ]
                },"messages": {
                  Row: {
                    "attempts": number,"body": string,"created_at": string,"created_by": string | null,"customer_id": string | null,"delivered_at": string | null,"direction": string,"encoding": string | null,"error_code": number | null,"error_message": string | null,"from_phone": string | null,"from_shared": boolean,"id": string,"idempotency_key": string | null,"keyword": string | null,"media_paths": (string)[],"quota_amount": number,"quota_metric": Database["public"]['Enums']["usage_metric"] | null,"read_at": string | null,"repair_order_id": string | null,"review_request_id": string | null,"segments": number,"send_at": string | null,"sent_at": string | null,"status": string,"template": string | null,"tenant_id": string,"to_phone": string,"twilio_segments": number | null,"twilio_sid": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"body"?: string,"created_at"?: string,"created_by"?: string | null,"customer_id"?: string | null,"delivered_at"?: string | null,"direction": string,"encoding"?: string | null,"error_code"?: number | null,"error_message"?: string | null,"from_phone"?: string | null,"from_shared"?: boolean,"id"?: string,"idempotency_key"?: string | null,"keyword"?: string | null,"media_paths"?: (string)[],"quota_amount"?: number,"quota_metric"?: Database["public"]['Enums']["usage_metric"] | null,"read_at"?: string | null,"repair_order_id"?: string | null,"review_request_id"?: string | null,"segments"?: number,"send_at"?: string | null,"sent_at"?: string | null,"status": string,"template"?: string | null,"tenant_id": string,"to_phone": string,"twilio_segments"?: number | null,"twilio_sid"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "attempts"?: number,"body"?: string,"created_at"?: string,"created_by"?: string | null,"customer_id"?: string | null,"delivered_at"?: string | null,"direction"?: string,"encoding"?: string | null,"error_code"?: number | null,"error_message"?: string | null,"from_phone"?: string | null,"from_shared"?: boolean,"id"?: string,"idempotency_key"?: string | null,"keyword"?: string | null,"media_paths"?: (string)[],"quota_amount"?: number,"quota_metric"?: Database["public"]['Enums']["usage_metric"] | null,"read_at"?: string | null,"repair_order_id"?: string | null,"review_request_id"?: string | null,"segments"?: number,"send_at"?: string | null,"sent_at"?: string | null,"status"?: string,"template"?: string | null,"tenant_id"?: string,"to_phone"?: string,"twilio_segments"?: number | null,"twilio_sid"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "messages_customer_id_fkey"
      columns: ["customer_id"]
isOneToOne: false
      referencedRelation: "customers"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"messaging_settings": {
                  Row: {
                    "pickup_template": string,"quiet_end": string,"quiet_start": string,"review_reminder_days": number | null,"review_template": string,"tenant_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "pickup_template"?: string,"quiet_end"?: string,"quiet_start"?: string,"review_reminder_days"?: number | null,"review_template"?: string,"tenant_id": string,"updated_at"?: string
                  }
                  Update: {
                    "pickup_template"?: string,"quiet_end"?: string,"quiet_start"?: string,"review_reminder_days"?: number | null,"review_template"?: string,"tenant_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "messaging_settings_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: true
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"plans": {
                  Row: {
                    "ai_requests": number,"created_at": string,"emails": number,"features": (Database["public"]['Enums']["plan_feature"])[],"id": string,"is_public": boolean,"label": string,"mms_messages": number,"monthly_price_cents": number,"ocr_pages": number,"overage_cents_per_segment": number,"sends_per_minute": number,"sms_segments": number,"sort_order": number,"trial_days": number | null,"updated_at": string,"voice_minutes": number
                  }
                  ComputedFields: never
                  Insert: {
                    "ai_requests": number,"created_at"?: string,"emails": number,"features"?: (Database["public"]['Enums']["plan_feature"])[],"id": string,"is_public"?: boolean,"label": string,"mms_messages": number,"monthly_price_cents": number,"ocr_pages": number,"overage_cents_per_segment"?: number,"sends_per_minute": number,"sms_segments": number,"sort_order": number,"trial_days"?: number | null,"updated_at"?: string,"voice_minutes": number
                  }
                  Update: {
                    "ai_requests"?: number,"created_at"?: string,"emails"?: number,"features"?: (Database["public"]['Enums']["plan_feature"])[],"id"?: string,"is_public"?: boolean,"label"?: string,"mms_messages"?: number,"monthly_price_cents"?: number,"ocr_pages"?: number,"overage_cents_per_segment"?: number,"sends_per_minute"?: number,"sms_segments"?: number,"sort_order"?: number,"trial_days"?: number | null,"updated_at"?: string,"voice_minutes"?: number
                  }
                  Relationships: [

                  ]
                },"platform_admins": {
                  Row: {
                    "created_at": string,"note": string | null,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"note"?: string | null,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"note"?: string | null,"user_id"?: string
                  }
                  Relationships: [

                  ]
                },"repair_orders": {
                  Row: {
                    "attempts": number,"client_id": string,"created_at": string,"created_by": string | null,"customer_id": string | null,"engine": string | null,"error_code": string | null,"error_message": string | null,"id": string,"parsed": Json | null,"photo_path": string,"raw_text": string | null,"reviewed_at": string | null,"reviewed_by": string | null,"ro_number": string | null,"status": string,"tenant_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"client_id": string,"created_at"?: string,"created_by"?: string | null,"customer_id"?: string | null,"engine"?: string | null,"error_code"?: string | null,"error_message"?: string | null,"id"?: string,"parsed"?: Json | null,"photo_path": string,"raw_text"?: string | null,"reviewed_at"?: string | null,"reviewed_by"?: string | null,"ro_number"?: string | null,"status"?: string,"tenant_id": string,"updated_at"?: string
                  }
                  Update: {
                    "attempts"?: number,"client_id"?: string,"created_at"?: string,"created_by"?: string | null,"customer_id"?: string | null,"engine"?: string | null,"error_code"?: string | null,"error_message"?: string | null,"id"?: string,"parsed"?: Json | null,"photo_path"?: string,"raw_text"?: string | null,"reviewed_at"?: string | null,"reviewed_by"?: string | null,"ro_number"?: string | null,"status"?: string,"tenant_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "repair_orders_customer_fkey"
      columns: ["tenant_id","customer_id"]
isOneToOne: false
      referencedRelation: "customers"
      referencedColumns: ["tenant_id","id"]
    },{
      foreignKeyName: "repair_orders_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"review_requests": {
                  Row: {
                    "click_count": number,"clicked_at": string | null,"code": string,"created_at": string,"created_by": string | null,"customer_id": string,"id": string,"message_id": string | null,"paused_at": string | null,"reminder_at": string | null,"reminder_message_id": string | null,"replied_at": string | null,"sent_at": string | null,"status": string,"tenant_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "click_count"?: number,"clicked_at"?: string | null,"code": string,"created_at"?: string,"created_by"?: string | null,"customer_id": string,"id"?: string,"message_id"?: string | null,"paused_at"?: string | null,"reminder_at"?: string | null,"reminder_message_id"?: string | null,"replied_at"?: string | null,"sent_at"?: string | null,"status"?: string,"tenant_id": string,"updated_at"?: string
                  }
                  Update: {
                    "click_count"?: number,"clicked_at"?: string | null,"code"?: string,"created_at"?: string,"created_by"?: string | null,"customer_id"?: string,"id"?: string,"message_id"?: string | null,"paused_at"?: string | null,"reminder_at"?: string | null,"reminder_message_id"?: string | null,"replied_at"?: string | null,"sent_at"?: string | null,"status"?: string,"tenant_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "review_requests_customer_id_fkey"
      columns: ["customer_id"]
isOneToOne: false
      referencedRelation: "customers"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "review_requests_message_id_fkey"
      columns: ["message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "review_requests_reminder_message_id_fkey"
      columns: ["reminder_message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "review_requests_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"send_rate_counters": {
                  Row: {
                    "minute": string,"sends": number,"tenant_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "minute": string,"sends"?: number,"tenant_id": string
                  }
                  Update: {
                    "minute"?: string,"sends"?: number,"tenant_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "send_rate_counters_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"shared_number_opt_outs": {
                  Row: {
                    "number": string,"opted_out_at": string,"phone": string
                  }
                  ComputedFields: never
                  Insert: {
                    "number": string,"opted_out_at"?: string,"phone": string
                  }
                  Update: {
                    "number"?: string,"opted_out_at"?: string,"phone"?: string
                  }
                  Relationships: [

                  ]
                },"stripe_events": {
                  Row: {
                    "id": string,"processed_at": string | null,"received_at": string,"result": string | null,"stripe_created_at": string | null,"type": string
                  }
                  ComputedFields: never
                  Insert: {
                    "id": string,"processed_at"?: string | null,"received_at"?: string,"result"?: string | null,"stripe_created_at"?: string | null,"type": string
                  }
                  Update: {
                    "id"?: string,"processed_at"?: string | null,"received_at"?: string,"result"?: string | null,"stripe_created_at"?: string | null,"type"?: string
                  }
                  Relationships: [

                  ]
                },"tenant_billing": {
                  Row: {
                    "activated_at": string | null,"cancel_at_period_end": boolean,"canceled_at": string | null,"created_at": string,"current_period_end": string | null,"current_period_start": string | null,"grace_days": number,"last_payment_at": string | null,"latest_invoice_created_at": string | null,"latest_invoice_id": string | null,"latest_invoice_status": string | null,"past_due_since": string | null,"plan": string | null,"price_id": string | null,"stripe_customer_id": string | null,"stripe_subscription_id": string | null,"subscription_created_at": string | null,"subscription_fetched_at": string | null,"subscription_status": string | null,"synced_at": string | null,"tenant_id": string,"updated_at": string,"welcomed_at": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "activated_at"?: string | null,"cancel_at_period_end"?: boolean,"canceled_at"?: string | null,"created_at"?: string,"current_period_end"?: string | null,"current_period_start"?: string | null,"grace_days"?: number,"last_payment_at"?: string | null,"latest_invoice_created_at"?: string | null,"latest_invoice_id"?: string | null,"latest_invoice_status"?: string | null,"past_due_since"?: string | null,"plan"?: string | null,"price_id"?: string | null,"stripe_customer_id"?: string | null,"stripe_subscription_id"?: string | null,"subscription_created_at"?: string | null,"subscription_fetched_at"?: string | null,"subscription_status"?: string | null,"synced_at"?: string | null,"tenant_id": string,"updated_at"?: string,"welcomed_at"?: string | null
                  }
                  Update: {
                    "activated_at"?: string | null,"cancel_at_period_end"?: boolean,"canceled_at"?: string | null,"created_at"?: string,"current_period_end"?: string | null,"current_period_start"?: string | null,"grace_days"?: number,"last_payment_at"?: string | null,"latest_invoice_created_at"?: string | null,"latest_invoice_id"?: string | null,"latest_invoice_status"?: string | null,"past_due_since"?: string | null,"plan"?: string | null,"price_id"?: string | null,"stripe_customer_id"?: string | null,"stripe_subscription_id"?: string | null,"subscription_created_at"?: string | null,"subscription_fetched_at"?: string | null,"subscription_status"?: string | null,"synced_at"?: string | null,"tenant_id"?: string,"updated_at"?: string,"welcomed_at"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "tenant_billing_plan_fkey"
      columns: ["plan"]
isOneToOne: false
      referencedRelation: "plans"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "tenant_billing_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: true
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"tenant_phone_numbers": {
                  Row: {
                    "after_hours_message": string | null,"created_at": string,"credential_kind": string,"e164": string,"forward_to": string | null,"greeting": string | null,"hours": NonNullable<Json>,"id": string,"ivr_mode": string,"messaging_service_sid": string | null,"released_at": string | null,"sip_uri": string | null,"status": string,"subaccount_sid": string,"tenant_id": string,"twilio_number_sid": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "after_hours_message"?: string | null,"created_at"?: string,"credential_kind"?: string,"e164": string,"forward_to"?: string | null,"greeting"?: string | null,"hours"?: NonNullable<Json>,"id"?: string,"ivr_mode"?: string,"messaging_service_sid"?: string | null,"released_at"?: string | null,"sip_uri"?: string | null,"status"?: string,"subaccount_sid": string,"tenant_id": string,"twilio_number_sid": string,"updated_at"?: string
                  }
                  Update: {
                    "after_hours_message"?: string | null,"created_at"?: string,"credential_kind"?: string,"e164"?: string,"forward_to"?: string | null,"greeting"?: string | null,"hours"?: NonNullable<Json>,"id"?: string,"ivr_mode"?: string,"messaging_service_sid"?: string | null,"released_at"?: string | null,"sip_uri"?: string | null,"status"?: string,"subaccount_sid"?: string,"tenant_id"?: string,"twilio_number_sid"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "tenant_phone_numbers_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"tenant_quota": {
                  Row: {
                    "ai_requests_used": number,"emails_used": number,"mms_used": number,"ocr_pages_used": number,"period_end": string,"period_start": string,"sms_segments_used": number,"tenant_id": string,"updated_at": string,"voice_minutes_used": number
                  }
                  ComputedFields: never
                  Insert: {
                    "ai_requests_used"?: number,"emails_used"?: number,"mms_used"?: number,"ocr_pages_used"?: number,"period_end": string,"period_start": string,"sms_segments_used"?: number,"tenant_id": string,"updated_at"?: string,"voice_minutes_used"?: number
                  }
                  Update: {
                    "ai_requests_used"?: number,"emails_used"?: number,"mms_used"?: number,"ocr_pages_used"?: number,"period_end"?: string,"period_start"?: string,"sms_segments_used"?: number,"tenant_id"?: string,"updated_at"?: string,"voice_minutes_used"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "tenant_quota_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: true
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"tenant_twilio_credentials": {
                  Row: {
                    "account_sid": string,"auth_token_ciphertext": string,"created_at": string,"key_id": string,"kind": string,"nonce": string,"rotated_at": string | null,"tenant_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "account_sid": string,"auth_token_ciphertext": string,"created_at"?: string,"key_id": string,"kind": string,"nonce": string,"rotated_at"?: string | null,"tenant_id": string
                  }
                  Update: {
                    "account_sid"?: string,"auth_token_ciphertext"?: string,"created_at"?: string,"key_id"?: string,"kind"?: string,"nonce"?: string,"rotated_at"?: string | null,"tenant_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "tenant_twilio_credentials_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"tenants": {
                  Row: {
                    "country": string,"created_at": string,"google_review_url": string | null,"id": string,"industry": string,"name": string,"overage_policy": string,"overage_policy_chosen_at": string | null,"phone": string | null,"plan": string,"slug": string,"status": Database["public"]['Enums']["tenant_status"],"time_zone": string,"trial_ends_at": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "country"?: string,"created_at"?: string,"google_review_url"?: string | null,"id"?: string,"industry": string,"name": string,"overage_policy"?: string,"overage_policy_chosen_at"?: string | null,"phone"?: string | null,"plan"?: string,"slug": string,"status"?: Database["public"]['Enums']["tenant_status"],"time_zone": string,"trial_ends_at"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "country"?: string,"created_at"?: string,"google_review_url"?: string | null,"id"?: string,"industry"?: string,"name"?: string,"overage_policy"?: string,"overage_policy_chosen_at"?: string | null,"phone"?: string | null,"plan"?: string,"slug"?: string,"status"?: Database["public"]['Enums']["tenant_status"],"time_zone"?: string,"trial_ends_at"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "tenants_plan_fkey"
      columns: ["plan"]
isOneToOne: false
      referencedRelation: "plans"
      referencedColumns: ["id"]
    }
                  ]
                },"usage_aggregation_state": {
                  Row: {
                    "aggregated_at": string,"day": string,"rows_changed": number,"watermark": string
                  }
                  ComputedFields: never
                  Insert: {
                    "aggregated_at"?: string,"day": string,"rows_changed"?: number,"watermark": string
                  }
                  Update: {
                    "aggregated_at"?: string,"day"?: string,"rows_changed"?: number,"watermark"?: string
                  }
                  Relationships: [

                  ]
                },"usage_alerts": {
                  Row: {
                    "cap": number,"created_at": string,"email_claimed_at": string | null,"emailed_at": string | null,"id": string,"metric": string,"period_end": string,"period_start": string,"tenant_id": string,"threshold": number,"used": number
                  }
                  ComputedFields: never
                  Insert: {
                    "cap": number,"created_at"?: string,"email_claimed_at"?: string | null,"emailed_at"?: string | null,"id"?: string,"metric": string,"period_end": string,"period_start": string,"tenant_id": string,"threshold": number,"used": number
                  }
                  Update: {
                    "cap"?: number,"created_at"?: string,"email_claimed_at"?: string | null,"emailed_at"?: string | null,"id"?: string,"metric"?: string,"period_end"?: string,"period_start"?: string,"tenant_id"?: string,"threshold"?: number,"used"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "usage_alerts_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"usage_cost_rates": {
                  Row: {
                    "cents_per_unit": number,"item": string,"note": string,"unit": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "cents_per_unit": number,"item": string,"note": string,"unit": string,"updated_at"?: string
                  }
                  Update: {
                    "cents_per_unit"?: number,"item"?: string,"note"?: string,"unit"?: string,"updated_at"?: string
                  }
                  Relationships: [

                  ]
                },"usage_events": {
                  Row: {
                    "id": number,"metric": Database["public"]['Enums']["usage_metric"],"occurred_at": string,"quantity": number,"recorded_at": string,"source_id": string,"source_type": string,"tenant_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "id"?: never,"metric": Database["public"]['Enums']["usage_metric"],"occurred_at"?: string,"quantity": number,"recorded_at"?: string,"source_id": string,"source_type": string,"tenant_id": string
                  }
                  Update: {
                    "id"?: never,"metric"?: Database["public"]['Enums']["usage_metric"],"occurred_at"?: string,"quantity"?: number,"recorded_at"?: string,"source_id"?: string,"source_type"?: string,"tenant_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "usage_events_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"usage_settings": {
                  Row: {
                    "created_at": string,"daily_email": boolean,"last_daily_email_on": string | null,"tenant_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"daily_email"?: boolean,"last_daily_email_on"?: string | null,"tenant_id": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"daily_email"?: boolean,"last_daily_email_on"?: string | null,"tenant_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "usage_settings_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: true
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"voicemails": {
                  Row: {
                    "call_sid": string,"created_at": string,"customer_id": string | null,"duration_seconds": number | null,"from_phone": string,"id": string,"phone_number_id": string | null,"read_at": string | null,"recording_sid": string | null,"recording_url": string | null,"tenant_id": string,"transcription": string | null,"transcription_status": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "call_sid": string,"created_at"?: string,"customer_id"?: string | null,"duration_seconds"?: number | null,"from_phone": string,"id"?: string,"phone_number_id"?: string | null,"read_at"?: string | null,"recording_sid"?: string | null,"recording_url"?: string | null,"tenant_id": string,"transcription"?: string | null,"transcription_status"?: string,"updated_at"?: string
                  }
                  Update: {
                    "call_sid"?: string,"created_at"?: string,"customer_id"?: string | null,"duration_seconds"?: number | null,"from_phone"?: string,"id"?: string,"phone_number_id"?: string | null,"read_at"?: string | null,"recording_sid"?: string | null,"recording_url"?: string | null,"tenant_id"?: string,"transcription"?: string | null,"transcription_status"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "voicemails_customer_id_fkey"
      columns: ["customer_id"]
isOneToOne: false
      referencedRelation: "customers"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "voicemails_phone_number_id_fkey"
      columns: ["phone_number_id"]
isOneToOne: false
      referencedRelation: "tenant_phone_numbers"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "voicemails_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "accept_invitation":
{ Args: { "token": string }; Returns: string
                           },
"admin_list_tenants":
{ Args: Record<PropertyKey, never>; Returns: {
              "country": string,"created_at": string,"id": string,"industry": string,"member_count": number,"name": string,"owner_email": string,"plan": string,"slug": string,"status": Database["public"]['Enums']["tenant_status"],"trial_ends_at": string
            }[]
                           },
"admin_tenant_daily":
{ Args: { "from_date"?: string,"tenant_id": string,"to_date"?: string }; Returns: {
              "ai_requests": number,"day": string,"emails_sent": number,"mms_outbound": number,"ocr_pages": number,"sms_inbound": number,"sms_outbound_segments": number,"voice_minutes_inbound": number,"voice_minutes_outbound": number
            }[]
                           },
"admin_usage_overview":
{ Args: { "from_date"?: string,"to_date"?: string }; Returns: {
              "ai_requests": number,"carrier_error_rate": number,"carrier_failed": number,"carrier_sent": number,"emails_sent": number,"margin_cents": number,"mms_outbound": number,"name": string,"ocr_pages": number,"opt_out_rate": number,"opt_outs": number,"overage_cents": number,"overage_policy": string,"plan": string,"plan_label": string,"plan_revenue_cents": number,"provider_cost_cents": number,"sms_cap": number,"sms_inbound": number,"sms_outbound_segments": number,"status": Database["public"]['Enums']["tenant_status"],"tenant_id": string,"voice_minutes_inbound": number,"voice_minutes_outbound": number
            }[]
                           },
"aggregate_usage":
{ Args: { "from_date"?: string,"to_date"?: string }; Returns: Json
                           },
"am_i_platform_admin":
{ Args: Record<PropertyKey, never>; Returns: boolean
                           },
"begin_repair_order_ocr":
{ Args: { "client_id": string,"photo_path": string,"tenant_id": string }; Returns: {
              "attempts": number,
"client_id": string,
"created_at": string,
"created_by": string | null,
"customer_id": string | null,
"engine": string | null,
"error_code": string | null,
"error_message": string | null,
"id": string,
"parsed": Json | null,
"photo_path": string,
"raw_text": string | null,
"reviewed_at": string | null,
"reviewed_by": string | null,
"ro_number": string | null,
"status": string,
"tenant_id": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "repair_orders"
        isOneToOne: true
        isSetofReturn: false
      } },
"billing_apply_subscription":
{ Args: { "cancel_at_period_end"?: boolean,"canceled_at"?: string,"customer_id": string,"fetched_at"?: string,"period_end": string,"period_start": string,"plan": string,"price_id": string,"subscription_created"?: string,"subscription_id": string,"subscription_status": string,"tenant_id": string }; Returns: Json
                           },
"billing_claim_event":
{ Args: { "event_created": string,"event_id": string,"event_type": string }; Returns: boolean
                           },
"billing_claim_welcome":
{ Args: { "release"?: boolean,"tenant_id": string }; Returns: boolean
                           },
"billing_finish_event":
{ Args: { "event_id": string,"ok": boolean,"result": string }; Returns: undefined
                           },
"billing_link_customer":
{ Args: { "customer_id": string,"tenant_id": string }; Returns: string
                           },
"billing_onboarding_contact":
{ Args: { "tenant_id": string }; Returns: {
              "owner_email": string,"owner_phone": string,"shop_phone": string,"tenant_name": string
            }[]
                           },
"billing_overage_claim":
{ Args: { "for_tenant"?: string,"lease_seconds"?: number,"max_rows"?: number }; Returns: {
              "claim_token": string,"closed": boolean,"cumulative_segments": number,"event_timestamp": string,"identifier": string,"period_end": string,"period_start": string,"report_id": string,"segments": number,"stripe_customer_id": string,"tenant_id": string
            }[]
                           },
"billing_overage_item_set":
{ Args: { "item_id"?: string,"price_id"?: string,"subscription_id": string,"tenant_id": string }; Returns: undefined
                           },
"billing_overage_item_work":
{ Args: { "for_tenant"?: string }; Returns: {
              "item_id": string,"item_price_id": string,"overage_policy": string,"policy_chosen_at": string,"removable": boolean,"stripe_customer_id": string,"subscription_id": string,"subscription_status": string,"tenant_id": string
            }[]
                           },
"billing_overage_mark":
{ Args: { "claim_token": string,"error"?: string,"ok": boolean,"report_id": string }; Returns: boolean
                           },
"billing_record_invoice":
{ Args: { "invoice_created": string,"invoice_id": string,"invoice_status": string,"paid_at"?: string,"tenant_id": string }; Returns: boolean
                           },
"billing_suspend_overdue":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"billing_tenant_for_customer":
{ Args: { "customer_id": string }; Returns: string
                           },
"can_use":
{ Args: { "feature": string,"tenant_id": string }; Returns: Json
                           },
"check_limits":
{ Args: { "tenant_id": string }; Returns: Json
                           },
"complete_repair_order_ocr":
{ Args: { "ai_requests"?: number,"attempt_id"?: string,"engine": string,"parsed": Json,"raw_text": string,"repair_order_id": string }; Returns: {
              "attempts": number,
"client_id": string,
"created_at": string,
"created_by": string | null,
"customer_id": string | null,
"engine": string | null,
"error_code": string | null,
"error_message": string | null,
"id": string,
"parsed": Json | null,
"photo_path": string,
"raw_text": string | null,
"reviewed_at": string | null,
"reviewed_by": string | null,
"ro_number": string | null,
"status": string,
"tenant_id": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "repair_orders"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_tenant":
{ Args: { "industry": string,"name": string,"phone"?: string,"time_zone": string }; Returns: string
                           },
"customer_voicemails":
{ Args: { "customer_id"?: string,"phone"?: string,"tenant_id": string }; Returns: {
              "call_sid": string,
"created_at": string,
"customer_id": string | null,
"duration_seconds": number | null,
"from_phone": string,
"id": string,
"phone_number_id": string | null,
"read_at": string | null,
"recording_sid": string | null,
"recording_url": string | null,
"tenant_id": string,
"transcription": string | null,
"transcription_status": string,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "voicemails"
        isOneToOne: false
        isSetofReturn: true
      } },
"fail_repair_order_ocr":
{ Args: { "ai_requests"?: number,"attempt_id"?: string,"error_code": string,"error_message": string,"repair_order_id": string }; Returns: {
              "attempts": number,
"client_id": string,
"created_at": string,
"created_by": string | null,
"customer_id": string | null,
"engine": string | null,
"error_code": string | null,
"error_message": string | null,
"id": string,
"parsed": Json | null,
"photo_path": string,
"raw_text": string | null,
"reviewed_at": string | null,
"reviewed_by": string | null,
"ro_number": string | null,
"status": string,
"tenant_id": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "repair_orders"
        isOneToOne: true
        isSetofReturn: false
      } },
"has_feature":
{ Args: { "feature": Database["public"]['Enums']["plan_feature"],"tenant_id": string }; Returns: boolean
                           },
"import_customers":
{ Args: { "file_name": string,"rows": Json,"tenant_id": string }; Returns: Json
                           },
"invite_member":
{ Args: { "email": string,"role": Database["public"]['Enums']["member_role"],"tenant_id": string }; Returns: Json
                           },
"messaging_cancel_message":
{ Args: { "message_id": string,"tenant_id": string }; Returns: undefined
                           },
"messaging_claim_due":
{ Args: { "max_rows"?: number }; Returns: {
              "attempts": number,
"body": string,
"created_at": string,
"created_by": string | null,
"customer_id": string | null,
"delivered_at": string | null,
"direction": string,
"encoding": string | null,
"error_code": number | null,
"error_message": string | null,
"from_phone": string | null,
"from_shared": boolean,
"id": string,
"idempotency_key": string | null,
"keyword": string | null,
"media_paths": (string)[],
"quota_amount": number,
"quota_metric": Database["public"]['Enums']["usage_metric"] | null,
"read_at": string | null,
"repair_order_id": string | null,
"review_request_id": string | null,
"segments": number,
"send_at": string | null,
"sent_at": string | null,
"status": string,
"template": string | null,
"tenant_id": string,
"to_phone": string,
"twilio_segments": number | null,
"twilio_sid": string | null,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: false
        isSetofReturn: true
      } },
"messaging_due_review_reminders":
{ Args: { "max_rows"?: number }; Returns: {
              "code": string,"customer_id": string,"review_request_id": string,"tenant_id": string
            }[]
                           },
"messaging_link_reminder":
{ Args: { "message_id": string,"review_request_id": string }; Returns: undefined
                           },
"messaging_pause_review_request":
{ Args: { "paused": boolean,"review_request_id": string,"tenant_id": string }; Returns: undefined
                           },
"messaging_record_inbound":
{ Args: { "body": string,"from_phone": string,"keyword"?: string,"media_urls": (string)[],"num_segments"?: number,"sms_sid": string,"to_phone": string,"to_shared": boolean }; Returns: Json
                           },
"messaging_record_status":
{ Args: { "account_sid"?: string,"error_code"?: number,"idempotency_token"?: string,"message_sid": string,"raw"?: Json,"status": string }; Returns: Json
                           },
"messaging_reserve_send":
{ Args: { "body": string,"customer_id": string,"encoding": string,"from_phone": string,"from_shared": boolean,"idempotency_key": string,"media_paths": (string)[],"repair_order_id"?: string,"review_code"?: string,"segments": number,"send_at"?: string,"template": string,"tenant_id": string,"to_phone": string,"user_id": string }; Returns: Json
                           },
"messaging_review_click":
{ Args: { "code": string }; Returns: string
                           },
"messaging_send_context":
{ Args: { "customer_id"?: string,"tenant_id": string,"to_phone"?: string,"user_id": string }; Returns: Json
                           },
"messaging_settle_send":
{ Args: { "error_code"?: number,"error_message"?: string,"message_id": string,"outcome": string,"status"?: string,"twilio_segments"?: number,"twilio_sid"?: string }; Returns: Json
                           },
"messaging_unknown_messages":
{ Args: { "max_rows"?: number,"older_than"?: string }; Returns: {
              "attempts": number,
"body": string,
"created_at": string,
"created_by": string | null,
"customer_id": string | null,
"delivered_at": string | null,
"direction": string,
"encoding": string | null,
"error_code": number | null,
"error_message": string | null,
"from_phone": string | null,
"from_shared": boolean,
"id": string,
"idempotency_key": string | null,
"keyword": string | null,
"media_paths": (string)[],
"quota_amount": number,
"quota_metric": Database["public"]['Enums']["usage_metric"] | null,
"read_at": string | null,
"repair_order_id": string | null,
"review_request_id": string | null,
"segments": number,
"send_at": string | null,
"sent_at": string | null,
"status": string,
"template": string | null,
"tenant_id": string,
"to_phone": string,
"twilio_segments": number | null,
"twilio_sid": string | null,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: false
        isSetofReturn: true
      } },
"my_tenants":
{ Args: Record<PropertyKey, never>; Returns: {
              "id": string,"name": string,"plan": string,"role": Database["public"]['Enums']["member_role"],"slug": string,"status": Database["public"]['Enums']["tenant_status"]
            }[]
                           },
"remove_member":
{ Args: { "tenant_id": string,"user_id": string }; Returns: undefined
                           },
"save_repair_order_review":
{ Args: { "consent_source"?: Database["public"]['Enums']["consent_source"],"name": string,"phone": string,"repair_order_id": string,"ro_number"?: string,"tenant_id": string,"vehicle"?: string,"vin"?: string }; Returns: Json
                           },
"set_member_role":
{ Args: { "role": Database["public"]['Enums']["member_role"],"tenant_id": string,"user_id": string }; Returns: undefined
                           },
"set_usage_settings":
{ Args: { "daily_email": boolean,"tenant_id": string }; Returns: undefined
                           },
"telephony_is_opted_out":
{ Args: { "phone": string,"tenant_id": string }; Returns: boolean
                           },
"telephony_record_call_usage":
{ Args: { "call_sid": string,"direction": string,"duration_seconds": number,"occurred_at"?: string,"tenant_id": string }; Returns: boolean
                           },
"telephony_record_sms_usage":
{ Args: { "message_sid": string,"segments": number,"tenant_id": string }; Returns: boolean
                           },
"telephony_record_transcription":
{ Args: { "call_sid": string,"status": string,"tenant_id": string,"transcription": string }; Returns: boolean
                           },
"telephony_record_voicemail":
{ Args: { "call_sid": string,"duration_seconds": number,"from_phone": string,"phone_number_id": string,"recording_sid": string,"recording_url": string,"tenant_id": string }; Returns: string
                           },
"tenant_standing":
{ Args: { "tenant_id": string }; Returns: string
                           },
"usage_claim_alert_emails":
{ Args: { "max_rows"?: number }; Returns: {
              "alert_id": string,"cap": number,"metric": string,"owner_emails": (string)[],"period_end": string,"period_start": string,"tenant_id": string,"tenant_name": string,"threshold": number,"used": number
            }[]
                           },
"usage_claim_daily_emails":
{ Args: { "max_rows"?: number }; Returns: {
              "limits": Json,"owner_emails": (string)[],"tenant_id": string,"tenant_name": string
            }[]
                           },
"usage_mark_alerts_emailed":
{ Args: { "alert_ids": (string)[] }; Returns: number
                           },
"usage_summary":
{ Args: { "tenant_id": string }; Returns: Json
                           }
          }
          Enums: {
            "consent_action": "opt_in"|"opt_out","consent_source": "signed_ro"|"verbal"|"web_form"|"keyword"|"csv_import"|"carrier"|"staff","member_role": "owner"|"admin"|"technician","plan_feature": "ai_sms_agent"|"ai_voice_agent"|"dedicated_number"|"campaigns"|"data_export"|"website_generator","tenant_status": "trialing"|"active"|"past_due"|"suspended"|"canceled","usage_metric": "sms_outbound"|"sms_inbound"|"mms_outbound"|"voice_minutes_inbound"|"voice_minutes_outbound"|"emails_sent"|"ai_requests"|"ocr_pages"
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "public": {
          Enums: {
            "consent_action": ["opt_in", "opt_out"],"consent_source": ["signed_ro", "verbal", "web_form", "keyword", "csv_import", "carrier", "staff"],"member_role": ["owner", "admin", "technician"],"plan_feature": ["ai_sms_agent", "ai_voice_agent", "dedicated_number", "campaigns", "data_export", "website_generator"],"tenant_status": ["trialing", "active", "past_due", "suspended", "canceled"],"usage_metric": ["sms_outbound", "sms_inbound", "mms_outbound", "voice_minutes_inbound", "voice_minutes_outbound", "emails_sent", "ai_requests", "ocr_pages"]
          }
        }
} as const
