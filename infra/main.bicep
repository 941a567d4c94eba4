// Tellgence API on Azure Functions Flex Consumption (Python 3.11, v2 programming model).
//
// Deploys into an existing resource group:
//   user-assigned managed identity (the app's only identity, used for every data-plane call)
//   storage account (host storage, deployment package container, the app's blob containers and queues)
//   Cosmos DB for NoSQL, serverless, Entra ID only (the database and every container of the registry)
//   Log Analytics + Application Insights (Entra ID ingestion)
//   Key Vault in RBAC mode (secret app settings are Key Vault references)
//   Flex Consumption plan (FC1) and the function app
//   alerts (poison queues, 5xx rate, readiness, Cosmos DB throttling) and diagnostic settings
//
// Storage resources are never typed here: they come from storage.json, which
// infra/sync_storage.py generates from shared/platform/store/registry.py (a unit test enforces it).
// The secret settings come from secret-settings.json, which infra/sync_settings.py generates from
// the repr=False fields of shared/platform/settings.py. No key or connection string reaches an app
// setting: a secret is only ever a Key Vault reference.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Deployment environment; becomes APP_ENV of the app.')
@allowed([
  'dev'
  'staging'
  'prod'
])
param appEnv string

@description('Azure region. Pick one that offers Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Short lowercase prefix for resource names (letters and digits).')
@minLength(2)
@maxLength(12)
param namePrefix string = 'tellgence'

@description('Upper bound of instances the Flex Consumption plan scales the app out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Origins of the web apps allowed by CORS (scheme://host[:port], no trailing slash); also FRONTEND_URLS.')
param frontendUrls array

@description('Public base URL of this API (API_PUBLIC_BASE_URL). Empty: https://<function app default host name>.')
param apiPublicBaseUrl string = ''

@description('Public base URL of the web app (WEB_PUBLIC_BASE_URL), used in links the API sends.')
param webPublicBaseUrl string = ''

@description('Build identifier reported by GET /api/build-info (BUILD_ID).')
param buildId string = 'unknown'

@description('Git commit of the deployed code (GIT_COMMIT).')
param gitCommit string = ''

@description('Deployment time (DEPLOYMENT_TIME); defaults to the time of this deployment.')
param deploymentTime string = utcNow()

@description('Azure OpenAI endpoint (AZURE_OPENAI_ENDPOINT); empty leaves realtime credentials "not configured".')
param azureOpenAiEndpoint string = ''

@description('Azure OpenAI realtime deployment name (AZURE_OPENAI_DEPLOYMENT_REALTIME).')
param azureOpenAiDeploymentRealtime string = 'gpt-realtime'

@description('Azure OpenAI transcription model (AZURE_OPENAI_TRANSCRIPTION_MODEL).')
param azureOpenAiTranscriptionModel string = 'gpt-4o-transcribe'

@description('Clerk JWKS URL used to verify control-plane JWTs (CLERK_JWKS_URL). Required for the control plane outside local development.')
param clerkJwksUrl string = ''

@description('Expected issuer of Clerk JWTs (CLERK_ISSUER). Empty: the app refuses every control-plane request (503) and readiness fails.')
param clerkIssuer string = ''

@description('Clerk user ids of the platform super-admins (SUPER_ADMIN_USER_IDS).')
param superAdminUserIds array = []

@description('Email provider (EMAIL_PROVIDER): acs (Azure Communication Services), smtp, or outbox (.eml blobs in the email-outbox container). Empty: email is reported as not configured.')
@allowed([
  ''
  'acs'
  'smtp'
  'outbox'
])
param emailProvider string = ''

@description('Sender of every email (EMAIL_FROM), e.g. "Tellgence <no-reply@example.com>".')
param emailFrom string = ''

@description('Azure Communication Services endpoint for EMAIL_PROVIDER=acs (ACS_EMAIL_ENDPOINT); or put ACS_EMAIL_CONNECTION_STRING in Key Vault.')
param acsEmailEndpoint string = ''

@description('SMTP server for EMAIL_PROVIDER=smtp (SMTP_HOST); its password is the SMTP_PASSWORD Key Vault secret.')
param smtpHost string = ''

@description('SMTP port (SMTP_PORT).')
param smtpPort int = 587

@description('SMTP user name (SMTP_USERNAME).')
param smtpUsername string = ''

@description('Whether SMTP upgrades the connection with STARTTLS (SMTP_STARTTLS).')
param smtpStartTls bool = true

@description('''Secret app settings whose secret already exists in the Key Vault, e.g. ["AZURE_OPENAI_API_KEY"].
Each must be one of secret-settings.json keyVaultSecretSettings; its secret is named after the setting in lowercase
kebab case (AZURE_OPENAI_API_KEY -> azure-openai-api-key). Settings not listed here are left unset (the app reports them
as not configured) rather than pointing at a missing secret. Names that are not secret settings are ignored and listed
in the ignoredKeyVaultSecretSettings output.''')
param keyVaultSecretSettings array = []

@description('Optional non-secret app settings (name -> string value): only the names in optionalSettingNames below are applied; any other name (a secret, a setting this template sets itself, a typo) is ignored and listed in the ignoredAdditionalAppSettings output.')
param additionalAppSettings object = {}

@description('Optional object id of a user, group or CI principal that may write Key Vault secrets (Key Vault Secrets Officer).')
param secretsOfficerPrincipalId string = ''

@description('Zone redundancy for the Flex Consumption plan, the storage account (ZRS) and Cosmos DB. Cosmos DB takes it only when the account is created. On by default in prod; the region must offer availability zones.')
param zoneRedundant bool = appEnv == 'prod'

@description('Storage account redundancy; ZRS when zoneRedundant.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSku string = zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'

@description('Always-ready instances for the HTTP functions (no cold start for the first requests); 0 in dev and staging, 1 in prod by default.')
@minValue(0)
@maxValue(20)
param alwaysReadyHttpInstances int = appEnv == 'prod' ? 1 : 0

@description('Soft delete for blobs and blob containers (evidence packs, PDFs, exports): deleted or overwritten data stays recoverable. On by default in prod.')
param blobSoftDelete bool = appEnv == 'prod'

@description('Days a soft-deleted blob or container is kept.')
@minValue(1)
@maxValue(365)
param blobSoftDeleteDays int = 30

@description('Cosmos DB continuous backup (point-in-time restore within 7 days). On by default in prod. Switching an account from periodic to continuous is a one-way migration.')
param cosmosContinuousBackup bool = appEnv == 'prod'

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Daily cap of Application Insights ingestion in GB; telemetry past it is dropped until the next day (UTC).')
@minValue(1)
@maxValue(1000)
param appInsightsDailyCapGb int = 2

@description('Email addresses the alerts notify (an action group); empty: alerts fire in the portal only.')
param alertEmailAddresses array = []

@description('5xx alert: the share of failed API requests (percent) over 15 minutes that fires it.')
@minValue(1)
@maxValue(100)
param alertHttp5xxPercent int = 5

@description('5xx alert: the number of requests in 15 minutes below which the rate is not judged.')
@minValue(1)
param alertHttp5xxMinimumRequests int = 20

@description('Storage read logs (every blob and queue read, including the host polling its queues) in Log Analytics; writes and deletes are always logged.')
param storageReadLogs bool = false

@description('Tags applied to every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// Storage declarations (generated from shared/platform/store/registry.py by infra/sync_storage.py)
// ---------------------------------------------------------------------------------------------

var storage = loadJsonContent('storage.json')
var cosmosDatabaseName = storage.database
var cosmosContainers = array(storage.containers)
var blobContainerNames = array(storage.blobContainers)
var registryQueueNames = array(storage.queues)
// Every queue gets its <name>-poison queue, where the host moves messages past maxDequeueCount.
var queueNames = union(registryQueueNames, map(filter(registryQueueNames, queue => !endsWith(queue, '-poison')), queue => '${queue}-poison'))

// ---------------------------------------------------------------------------------------------
// Names and constants
// ---------------------------------------------------------------------------------------------

var prefix = toLower(replace(namePrefix, '-', ''))
var resourceToken = uniqueString(subscription().id, resourceGroup().id, appEnv)
var allTags = union(tags, {
  application: 'tellgence-api'
  environment: appEnv
})

var identityName = 'id-${prefix}-${appEnv}-${resourceToken}'
var storageAccountName = 'st${take(prefix, 9)}${resourceToken}'
var cosmosAccountName = 'cosmos-${prefix}-${appEnv}-${resourceToken}'
var keyVaultName = 'kv${take(prefix, 9)}${resourceToken}'
var logAnalyticsName = 'log-${prefix}-${appEnv}-${resourceToken}'
var appInsightsName = 'appi-${prefix}-${appEnv}-${resourceToken}'
var planName = 'plan-${prefix}-${appEnv}-${resourceToken}'
var functionAppName = 'func-${prefix}-${appEnv}-${resourceToken}'
// The blob container Flex Consumption deploys the app package to (infra-only, not an app container).
var deploymentContainerName = 'app-package-${resourceToken}'
var keyVaultUri = 'https://${keyVaultName}${environment().suffixes.keyvaultDns}/'

// Built-in role definition ids (Azure RBAC).
var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
// Cosmos DB Built-in Data Contributor (Cosmos DB data-plane RBAC, not Azure RBAC).
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002'

// The host's storage needs blobs (leases, keys, deployment package) and queues (triggers); the
// table role serves the host's diagnostic events. Storage Account Contributor is not needed.
var storageRoleIds = [
  roleIds.storageBlobDataOwner
  roleIds.storageQueueDataContributor
  roleIds.storageTableDataContributor
]

// ---------------------------------------------------------------------------------------------
// App settings: which names the template sets, which are secrets, which are optional
// ---------------------------------------------------------------------------------------------

// The secret settings of shared/platform/settings.py (its repr=False fields), generated by
// infra/sync_settings.py. A secret is only ever a Key Vault reference (keyVaultSecretSettings);
// the ones the managed identity replaces (COSMOS_KEY, AzureWebJobsStorage) are never set, since a
// connection string with an account key would silently switch storage to keys the account refuses.
var secretSettings = loadJsonContent('secret-settings.json')
var secretSettingNames = array(secretSettings.keyVaultSecretSettings)
var enabledSecretSettingNames = filter(secretSettingNames, settingName => contains(keyVaultSecretSettings, settingName))
var keyVaultReferenceSettings = toObject(enabledSecretSettingNames, settingName => settingName, settingName => '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${toLower(replace(settingName, '_', '-'))}/)')

// Settings the app reads that this template deliberately leaves to the app's defaults; each may be
// set through additionalAppSettings. A test checks that every setting Settings.from_env reads is
// set below, a secret, or listed here or in notInAzureSettingNames.
var optionalSettingNames = [
  'APP_VERSION' // the version /api/build-info reports; defaults to the code's own
  'TEMPORAL_ENABLED' // workflow orchestration, off by default
  'FEATURE_BOOKING_TEMPORAL_ORCHESTRATION'
  'FEATURE_TOOL_EXECUTION_PERSISTENCE' // the defaults of the feature flags until a super-admin changes them
  'FEATURE_FLAG_CACHE_SECONDS' // how long an instance keeps its copy of the flags (5 s)
  'SUPPORT_NOTIFY_EMAIL' // where critical support tickets are announced
  'RATE_LIMITS' // per-operation overrides of the built-in limits
  'SESSION_TTL_SECONDS'
  'REALTIME_PRICE_TABLE'
  'HEALTH_CHECK_TIMEOUT_SECONDS'
  'MAX_BODY_BYTES'
  'TRUSTED_PROXY_HOPS' // 1: Azure's front end; 2 behind Front Door or another proxy that appends X-Forwarded-For
  'LEADS_NOTIFY_EMAIL' // where lead notifications of the demo tenant go
  'CONNECTOR_TIMEOUT_SECONDS'
  'INTEGRATION_RETRY_MAX_ATTEMPTS' // attempts per retry request before the message is poisoned
  'INTEGRATION_RETRY_BASE_DELAY_SECONDS' // first back-off delay of an integration retry, doubled per attempt
  'TOOL_RETRY_MAX_ATTEMPTS' // attempts of one tool execution on retryable failures
  'TOOL_RETRY_BASE_DELAY_SECONDS' // first back-off delay of a tool retry, doubled per attempt
  'TOOL_EXECUTION_DEADLINE_SECONDS' // time budget of all attempts of one tool execution
  'TOOL_JOURNAL_RETENTION_DAYS' // how long tool journal items are kept while tool_execution_persistence is on
  'TELEPHONY_INBOUND_NUMBERS' // the inbound number directory: +E164=tenantId[/scenarioSlug],...
  'REALTIME_SESSION_TIER'
  'REALTIME_REASONING_EFFORT'
  'REALTIME_CREDENTIAL_TTL_SECONDS'
  'REALTIME_PROVIDER_TIMEOUT_SECONDS'
  'ATTESTATION_TOKEN_TTL_DAYS'
  'EVIDENCE_RETIRED_PUBLIC_KEYS' // public keys only: packs signed before a key rotation keep verifying
]
// Settings the app reads that must not be set in Azure at all.
var notInAzureSettingNames = [
  'OUTBOUND_ALLOW_LOOPBACK' // dev and tests only: it lets tenant-configured URLs reach loopback
  'CLERK_JWT_KEY' // a PEM alternative to CLERK_JWKS_URL for local development; Azure uses the JWKS
  'BUILD_SOURCEVERSION' // a CI pipeline's alias of GIT_COMMIT, which the template sets
]
var acceptedAdditionalSettings = filter(items(additionalAppSettings), setting => contains(optionalSettingNames, setting.key))
var extraAppSettings = toObject(acceptedAdditionalSettings, setting => setting.key, setting => string(setting.value))
var ignoredAdditionalSettingNames = map(filter(items(additionalAppSettings), setting => !contains(optionalSettingNames, setting.key)), setting => setting.key)
var ignoredKeyVaultSecretSettingNames = filter(keyVaultSecretSettings, settingName => !contains(secretSettingNames, settingName))

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: allTags
}

// ---------------------------------------------------------------------------------------------
// Storage account: host storage, deployment package, the app's blob containers and queues
// ---------------------------------------------------------------------------------------------

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: allTags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Soft delete keeps deleted or overwritten evidence packs, PDFs and exports recoverable for
// blobSoftDeleteDays; it covers every container of the account, the registry's included.
var softDeletePolicy = blobSoftDelete ? {
  enabled: true
  days: blobSoftDeleteDays
} : {
  enabled: false
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storageAccount
  name: 'default'
  properties: {
    deleteRetentionPolicy: softDeletePolicy
    containerDeleteRetentionPolicy: softDeletePolicy
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource appBlobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for containerName in blobContainerNames: {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storageAccount
  name: 'default'
}

resource appQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in storageRoleIds: {
  name: guid(storageAccount.id, appIdentity.id, roleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

// ---------------------------------------------------------------------------------------------
// Cosmos DB for NoSQL: serverless, Entra ID only
// ---------------------------------------------------------------------------------------------

// Continuous backup: point-in-time restore of any second of the last 7 days. Without it the
// account keeps Azure's periodic backups. Periodic -> continuous is a one-way migration, so the
// policy is only ever sent when continuous is asked for.
var cosmosBackup = cosmosContinuousBackup ? {
  backupPolicy: {
    type: 'Continuous'
    continuousModeProperties: {
      tier: 'Continuous7Days'
    }
  }
} : {}

resource cosmosAccount 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: cosmosAccountName
  location: location
  tags: allTags
  kind: 'GlobalDocumentDB'
  properties: union({
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        // Fixed when the account is created: changing it later needs a new account.
        isZoneRedundant: zoneRedundant
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }, cosmosBackup)
}

resource cosmosDatabase 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: cosmosAccount
  name: cosmosDatabaseName
  properties: {
    resource: {
      id: cosmosDatabaseName
    }
  }
}

resource cosmosContainerResources 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [for container in cosmosContainers: {
  parent: cosmosDatabase
  name: container.name
  properties: {
    // defaultTtl only when the registry sets one (null: TTL off).
    resource: union({
      id: container.name
      partitionKey: {
        paths: [
          container.partitionKey
        ]
        kind: 'Hash'
        version: 2
      }
    }, container.defaultTtl == null ? {} : {
      defaultTtl: container.defaultTtl
    })
  }
}]

resource cosmosRoleAssignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmosAccount
  name: guid(cosmosAccount.id, appIdentity.id, cosmosDataContributorRoleId)
  properties: {
    roleDefinitionId: '${cosmosAccount.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}'
    principalId: appIdentity.properties.principalId
    scope: cosmosAccount.id
  }
}

// ---------------------------------------------------------------------------------------------
// Monitoring: Log Analytics + Application Insights (Entra ID ingestion only)
// ---------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: allTags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: allTags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

// The daily cap: past it, Application Insights drops telemetry until midnight UTC.
resource appInsightsPricingPlan 'Microsoft.Insights/components/pricingPlans@2017-10-01' = {
  parent: appInsights
  name: 'current'
  properties: {
    planType: 'Basic'
    cap: appInsightsDailyCapGb
    warningThreshold: 90
    stopSendNotificationWhenHitCap: false
    stopSendNotificationWhenHitThreshold: false
  }
}

resource appInsightsRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appIdentity.id, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault (RBAC mode): the app reads secrets through Key Vault references
// ---------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: allTags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: appEnv == 'prod' ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource keyVaultSecretsUserAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, appIdentity.id, roleIds.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource keyVaultSecretsOfficerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(secretsOfficerPrincipalId)) {
  name: guid(keyVault.id, secretsOfficerPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: secretsOfficerPrincipalId
  }
}

// ---------------------------------------------------------------------------------------------
// Flex Consumption plan and function app
// ---------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: allTags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: allTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: appIdentity.id
    // Flex Consumption refuses the site properties it replaced or dropped (ftpsState, alwaysOn,
    // linuxFxVersion, functionAppScaleLimit, ...; a test lists them): runtime, scale and the
    // deployment package live in functionAppConfig, and FTP does not exist on Flex at all.
    siteConfig: {
      minTlsVersion: '1.2'
      cors: {
        allowedOrigins: frontendUrls
        supportCredentials: true
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: appIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyHttpInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ] : []
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
  dependsOn: [
    deploymentContainer
    storageRoleAssignments
  ]
}

// App settings: identity-based connections only, secrets as Key Vault references. Later objects
// in union() win, so nothing in additionalAppSettings can override the fixed settings below.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(extraAppSettings, keyVaultReferenceSettings, {
    // Host storage through the user-assigned identity (identity-based AzureWebJobsStorage).
    AzureWebJobsStorage__accountName: storageAccount.name
    AzureWebJobsStorage__blobServiceUri: storageAccount.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storageAccount.properties.primaryEndpoints.queue
    AzureWebJobsStorage__tableServiceUri: storageAccount.properties.primaryEndpoints.table
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: appIdentity.properties.clientId
    // The API serves GET / itself (empty route, routePrefix "" in host.json).
    AzureWebJobsDisableHomepage: 'true'
    // Telemetry with the identity (Entra ID ingestion): read by the host and by the app's OpenTelemetry.
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${appIdentity.properties.clientId};Authorization=AAD'
    // The worker attaches each invocation's trace context, so the app's spans join the host's operation.
    PYTHON_ENABLE_OPENTELEMETRY: 'true'
    // DefaultAzureCredential in the app picks the user-assigned identity by this client id.
    AZURE_CLIENT_ID: appIdentity.properties.clientId
    APP_ENV: appEnv
    BUILD_ID: buildId
    DEPLOYMENT_TIME: deploymentTime
    GIT_COMMIT: gitCommit
    COSMOS_ENDPOINT: cosmosAccount.properties.documentEndpoint
    COSMOS_DATABASE: cosmosDatabaseName
    FRONTEND_URLS: join(frontendUrls, ',')
    API_PUBLIC_BASE_URL: empty(apiPublicBaseUrl) ? 'https://${functionApp.properties.defaultHostName}' : apiPublicBaseUrl
    WEB_PUBLIC_BASE_URL: webPublicBaseUrl
    AZURE_OPENAI_ENDPOINT: azureOpenAiEndpoint
    AZURE_OPENAI_DEPLOYMENT_REALTIME: azureOpenAiDeploymentRealtime
    AZURE_OPENAI_TRANSCRIPTION_MODEL: azureOpenAiTranscriptionModel
    CLERK_JWKS_URL: clerkJwksUrl
    CLERK_ISSUER: clerkIssuer
    SUPER_ADMIN_USER_IDS: join(superAdminUserIds, ',')
    EMAIL_PROVIDER: emailProvider
    EMAIL_FROM: emailFrom
    ACS_EMAIL_ENDPOINT: acsEmailEndpoint
    SMTP_HOST: smtpHost
    SMTP_PORT: string(smtpPort)
    SMTP_USERNAME: smtpUsername
    SMTP_STARTTLS: smtpStartTls ? 'true' : 'false'
  })
  dependsOn: [
    storageRoleAssignments
    cosmosRoleAssignment
    keyVaultSecretsUserAssignment
    appInsightsRoleAssignment
    appBlobContainers
    appQueues
    cosmosContainerResources
  ]
}

// ---------------------------------------------------------------------------------------------
// Diagnostic settings: Key Vault, Cosmos DB and Storage logs and metrics to Log Analytics
// ---------------------------------------------------------------------------------------------

resource keyVaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: keyVault
  properties: {
    workspaceId: logAnalytics.id
    logs: [
      {
        category: 'AuditEvent' // every secret read, by whom
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource cosmosDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: cosmosAccount
  properties: {
    workspaceId: logAnalytics.id
    // Resource-specific tables (CDBDataPlaneRequests, ...) rather than AzureDiagnostics.
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'DataPlaneRequests' // status codes (429s), RU charge, duration per request
        enabled: true
      }
      {
        category: 'ControlPlaneRequests'
        enabled: true
      }
      {
        category: 'PartitionKeyRUConsumption' // hot partitions
        enabled: true
      }
      {
        category: 'QueryRuntimeStatistics'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Requests'
        enabled: true
      }
    ]
  }
}

resource storageDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storageAccount
  properties: {
    workspaceId: logAnalytics.id
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

// Reads are opt-in: the host polls its queues every few seconds, so read logs are mostly polling.
var storageServiceLogs = [
  {
    category: 'StorageRead'
    enabled: storageReadLogs
  }
  {
    category: 'StorageWrite' // uploads, enqueues (including moves to a -poison queue)
    enabled: true
  }
  {
    category: 'StorageDelete'
    enabled: true
  }
]

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalytics.id
    logs: storageServiceLogs
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalytics.id
    logs: storageServiceLogs
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// Alerts: poisoned messages, 5xx rate, readiness failures, Cosmos DB throttling
// ---------------------------------------------------------------------------------------------

// The probe_operability timer (blueprints/jobs/operability.py) records these gauges every 5 minutes.
var readinessGauge = 'tellgence.readiness'
var poisonDepthGauge = 'tellgence.poison_queue.depth'
// Readiness and health answers are judged by the readiness alert, not counted as API failures.
var probeOperationIds = '\'getRootReadiness\', \'getReadiness\', \'getHealth\''

resource alertActionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${prefix}-${appEnv}-${resourceToken}'
  location: 'global'
  tags: allTags
  properties: {
    groupShortName: take('tg-${appEnv}', 12)
    enabled: true
    emailReceivers: [for (address, index) in alertEmailAddresses: {
      name: 'email-${index}'
      emailAddress: address
      useCommonAlertSchema: true
    }]
  }
}

var logAlerts = [
  {
    name: 'poison-queue'
    severity: 2
    title: 'Messages in a poison queue'
    description: 'A <queue>-poison queue holds messages that failed every retry (maxDequeueCount). They are not retried: see docs/OPERATIONS.md, "Poison queues".'
    query: 'customMetrics | where name == \'${poisonDepthGauge}\' | extend queue = tostring(customDimensions[\'queue\']) | summarize depth = max(value) by queue | where depth > 0'
  }
  {
    name: 'http-5xx-rate'
    severity: 1
    title: 'API 5xx rate'
    // itemCount: with sampling, one stored request stands for itemCount requests.
    description: 'More than ${alertHttp5xxPercent}% of the API requests of the last 15 minutes failed with a 5xx (at least ${alertHttp5xxMinimumRequests} requests).'
    query: 'requests | where name !in (${probeOperationIds}) | summarize total = sum(itemCount), failed = sumif(itemCount, toint(resultCode) >= 500) | where total >= ${alertHttp5xxMinimumRequests} and failed * 100.0 / total > ${alertHttp5xxPercent}'
  }
  {
    name: 'readiness'
    severity: 1
    title: 'Readiness failing'
    description: 'A readiness check failed (the operability probe) or /readyz answered 503. The check and its message are in the traces of the same time.'
    query: 'customMetrics | where name == \'${readinessGauge}\' and value == 0 | extend check = tostring(customDimensions[\'check\']) | project timestamp, check | union (requests | where name in (\'getRootReadiness\', \'getReadiness\') and resultCode == \'503\' | project timestamp, check = \'probe request\')'
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in logAlerts: {
  name: 'alert-${alert.name}-${prefix}-${appEnv}-${resourceToken}'
  location: location
  tags: allTags
  properties: {
    displayName: '${alert.title} (${appEnv})'
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        alertActionGroup.id
      ]
    }
  }
}]

// Cosmos DB answers 429 when a serverless container exceeds what it may consume at once; the SDK
// retries, but sustained 429s mean slow or failed requests.
resource cosmosThrottlingAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-cosmos-429-${prefix}-${appEnv}-${resourceToken}'
  location: 'global'
  tags: allTags
  properties: {
    description: 'Cosmos DB throttled requests (status 429) in the last 5 minutes.'
    severity: 2
    enabled: true
    scopes: [
      cosmosAccount.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'throttled-requests'
          metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
          metricName: 'TotalRequests'
          dimensions: [
            {
              name: 'StatusCode'
              operator: 'Include'
              values: [
                '429'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Count'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: alertActionGroup.id
      }
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output managedIdentityClientId string = appIdentity.properties.clientId
output managedIdentityPrincipalId string = appIdentity.properties.principalId
output storageAccountName string = storageAccount.name
output deploymentContainerName string = deploymentContainerName
output cosmosEndpoint string = cosmosAccount.properties.documentEndpoint
output cosmosDatabaseName string = cosmosDatabaseName
output keyVaultName string = keyVault.name
output keyVaultUri string = keyVaultUri
output applicationInsightsName string = appInsights.name
output logAnalyticsWorkspaceName string = logAnalytics.name
output alertActionGroupName string = alertActionGroup.name
@description('additionalAppSettings names that were not applied (not in optionalSettingNames: secrets, settings the template sets itself, typos).')
output ignoredAdditionalAppSettings array = ignoredAdditionalSettingNames
@description('keyVaultSecretSettings names that were not applied (not secret settings of the app).')
output ignoredKeyVaultSecretSettings array = ignoredKeyVaultSecretSettingNames
@description('Settings the app reads that are never set in Azure, on purpose.')
output settingsNeverSetInAzure array = union(notInAzureSettingNames, secretSettings.replacedByIdentity)
